"""Impersonation (issue 17): what is not even shown, the sign-out's « stop » line, and the
contact update recorded with both identities."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from datapass.models import AuthorizationRequestEvent
from datapass.models.audit import IMPERSONATED_WRITE, IMPERSONATION_STOPPED
from datapass.services import decisions
from tests.factories import UserFactory
from tests.support.authorization_requests import submitted_request
from tests.support.http import post_form, reload
from tests.views.test_admin_support import BANNER, entries, impersonate

INSTRUCTOR = "api_particulier:instructor"


@pytest.fixture
def admin(login_as):
    return login_as(roles=["admin"], email="support@datapass.example.gouv.fr")


def test_no_decision_button_nor_page_while_impersonating_an_instructor(client, db, admin):
    authorization_request = submitted_request()
    instructor = UserFactory(roles=[INSTRUCTOR])
    approved = submitted_request()
    decisions.decide(approved, "approve", UserFactory(roles=[INSTRUCTOR]), version=approved.version)
    db.session.commit()
    impersonate(client, instructor)

    page = client.get(f"/instruction/demandes/{authorization_request.id}")
    assert page.status_code == 200 and BANNER in page.text
    assert 'aria-label="Décisions"' not in page.text
    assert "/decisions/approve" not in page.text
    decision_page = client.get(f"/instruction/demandes/{authorization_request.id}/decisions/refuse")
    assert decision_page.status_code == 303  # refused, its message flashed
    revocable = client.get(f"/instruction/demandes/{approved.id}")
    assert revocable.status_code == 200 and "Révoquer H" not in revocable.text


def test_the_instructor_in_their_own_name_sees_the_decisions(client, db, login_as):
    authorization_request = submitted_request()
    db.session.commit()
    login_as(roles=[INSTRUCTOR])
    page = client.get(f"/instruction/demandes/{authorization_request.id}")
    assert 'aria-label="Décisions"' in page.text
    assert (
        client.get(f"/instruction/demandes/{authorization_request.id}/decisions/refuse").status_code
        == 200
    )


def test_signing_out_while_impersonating_writes_the_stop_line(client, db, admin):
    applicant = UserFactory()
    db.session.commit()
    impersonate(client, applicant)
    response = post_form(client, "/deconnexion", page="/compte")
    assert response.status_code == 302
    [stop] = entries(IMPERSONATION_STOPPED)
    assert (stop.actor_id, stop.target_user_id) == (admin.id, applicant.id)
    assert stop.details == {"expired": False, "signed_out": True}
    assert BANNER not in client.get("/").text


def test_a_contact_update_while_impersonating_carries_both_identities(client, db, admin):
    authorization_request = submitted_request()
    decisions.decide(
        authorization_request,
        "approve",
        UserFactory(roles=[INSTRUCTOR]),
        version=authorization_request.version,
    )
    [authorization] = authorization_request.authorizations
    applicant = authorization_request.applicant
    db.session.commit()
    impersonate(client, applicant)
    url = f"/habilitations/{authorization.id}/contacts"
    page = client.get(url)
    assert page.status_code == 200
    response = post_form(
        client,
        url,
        {
            "version": reload(authorization_request).version,
            "delegue_protection_donnees_family_name": "Nouveau",
            "delegue_protection_donnees_given_name": "Délégué",
            "delegue_protection_donnees_email": "nouveau.dpo@ccas.example.fr",
            "delegue_protection_donnees_phone_number": "01 41 15 40 01",
        },
        page=page,
    )
    assert response.status_code in (302, 303), response.text[:500]
    event = db.session.scalar(
        select(AuthorizationRequestEvent)
        .where(AuthorizationRequestEvent.name == "update_contacts")
        .order_by(AuthorizationRequestEvent.id.desc())
    )
    assert event is not None
    assert (event.user_id, event.payload["impersonated_by"]) == (applicant.id, admin.email)
    writes = entries(IMPERSONATED_WRITE)
    assert writes and all(
        (w.actor_id, w.impersonator_id) == (applicant.id, admin.id) for w in writes
    )
    assert any("authorizations" in w.details["tables"] for w in writes)
