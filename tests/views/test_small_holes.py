"""Small holes: an instructor never deletes a draft; transfers and API errors reveal nothing."""

from __future__ import annotations

import pytest

from datapass import workflow
from datapass.catalog import get_catalog
from datapass.errors import UserError
from datapass.models import AuthorizationRequest
from datapass.services import authorization_requests, transfers
from tests.api.conftest import bearer_for
from tests.api.test_api_v1 import CCAS_SIRET
from tests.factories import UserFactory
from tests.support.authorization_requests import submitted_request
from tests.support.http import reload

INSTRUCTOR = "api_particulier:instructor"


def test_an_instructor_cannot_archive_an_unsubmitted_draft(client, db, login_as):
    applicant = UserFactory()
    draft = authorization_requests.start_request_for_applicant(
        applicant, get_catalog().form("api-particulier")
    )
    db.session.commit()
    assert "archive" not in workflow.allowed_events(draft, workflow.INSTRUCTOR)
    assert "archive" in workflow.allowed_events(draft, workflow.APPLICANT)
    login_as(roles=[INSTRUCTOR])
    client.post(f"/instruction/demandes/{draft.id}/decisions/archive", data={})
    assert reload(AuthorizationRequest, draft.id).state == workflow.DRAFT


def test_the_transfer_does_not_tell_whether_an_email_has_an_account(db):
    authorization_request = submitted_request()
    outsider = UserFactory(email="existe@ailleurs.fr")
    db.session.commit()
    messages = []
    for email in (outsider.email, "personne@nulle-part.fr"):
        with pytest.raises(UserError) as error:
            transfers.transfer_request(
                authorization_request, authorization_request.applicant, email, role="applicant"
            )
        messages.append(error.value.message)
    assert messages[0] == messages[1] == transfers.NOT_A_MEMBER


@pytest.mark.parametrize("key", ["<script>alert(1)</script>", "x" * 500, "Robert'); DROP"])
def test_api_errors_never_echo_input(client, db, key):
    headers, _ = bearer_for(client)
    body = {
        "demande": {
            "form_uid": "api-particulier-aides-sociales-ccas",
            "applicant": {"email": "agent@ccas-exemple.fr"},
            "organization": {"siret": CCAS_SIRET},
            "data": {"intitule": "Aides", key: "valeur"},
        }
    }
    response = client.post("/api/v1/demandes", json=body, headers=headers)
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["source"]["pointer"] == "/demande/data"
    assert key not in response.get_data(as_text=True)
