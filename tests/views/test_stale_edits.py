"""Every page that changes a request carries its version: missing or old, it is refused."""

from __future__ import annotations

import pytest

from datapass import workflow
from datapass.catalog import get_catalog
from datapass.models import AuthorizationRequest
from datapass.services.authorization_requests import STALE_STEP
from tests.support.authorization_requests import submitted_request
from tests.support.http import csrf_token, post_form, reload
from tests.support.wizard import fill_all, start

FORM = "api-particulier-aides-sociales-ccas-dont-facultatives"
PROJECT = {"intitule": "Écrasé", "description": "Écrasée", "action": "save"}


@pytest.fixture
def request_id(client, login_as):
    login_as()
    return start(client, get_catalog().form(FORM))


def stale_text() -> str:
    return STALE_STEP.split(" : ")[0]


@pytest.mark.parametrize("version", [None, "", "abc", "0", "99999999999999999999"])
def test_a_block_step_without_its_version_is_refused(client, db, request_id, version):
    url = f"/demandes/{request_id}/etapes/projet"
    data = PROJECT | ({} if version is None else {"version": version})
    response = post_form(client, url, data)
    assert response.status_code == 409
    assert stale_text() in response.text
    assert (reload(AuthorizationRequest, request_id).data or {}).get("intitule") != "Écrasé"


def test_the_organisation_step_without_its_version_is_refused(client, db, request_id):
    url = f"/demandes/{request_id}/etapes/organisation"
    before = reload(AuthorizationRequest, request_id).version
    response = post_form(client, url, {"siret": "", "action": "next"})
    assert response.status_code == 422
    assert stale_text() in response.text
    assert reload(AuthorizationRequest, request_id).version == before


def test_the_summary_without_its_version_submits_nothing(client, db, request_id):
    fill_all(client, get_catalog().form(FORM), request_id)
    url = f"/demandes/{request_id}/etapes/synthese"
    data = {
        "terms_of_service_accepted": "y",
        "data_protection_officer_informed": "y",
        "action": "submit",
    }
    response = post_form(client, url, data)
    assert response.status_code == 422
    assert stale_text() in response.text
    assert reload(AuthorizationRequest, request_id).state == workflow.DRAFT


def test_a_decision_without_its_version_is_refused(client, db, login_as):
    authorization_request = submitted_request(form_uid=FORM)
    login_as(roles=["api_particulier:instructor"])
    url = f"/instruction/demandes/{authorization_request.id}/decisions/approve"
    page = client.get(url)
    response = client.post(url, data={"csrf_token": csrf_token(page.text), "reason": ""})
    assert response.status_code == 409
    assert reload(AuthorizationRequest, authorization_request.id).state != workflow.VALIDATED
