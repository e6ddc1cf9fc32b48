"""The editor as technical contact, through the wizard's pages and the API: a locked contact
survives a crafted POST, « C’est moi » and a PATCH; an editable one can be replaced."""

from __future__ import annotations

import pytest

from datapass.catalog import get_catalog
from datapass.models import AuthorizationRequest
from datapass.services import authorization_requests
from tests.api.conftest import bearer_for
from tests.factories import UserFactory
from tests.support.http import reload
from tests.support.wizard import contact_answers, fill_all, post_step, start, submit

MILLESIME = "api-particulier-ccas-arche-mc2"
SONATE = "api-particulier-ccas-arpege"
CRAFTED = {
    "contact_technique_family_name": "Pirate",
    "contact_technique_given_name": "Paul",
    "contact_technique_email": "pirate@example.fr",
    "contact_technique_phone_number": "01 23 45 67 89",
    "contact_technique_job_title": "Intrus",
}


@pytest.fixture
def agent(login_as):
    return login_as(given_name="Léa", family_name="Martin", phone_number="0601020304")


def form(uid: str):
    return get_catalog().form(uid)


def test_the_locked_contact_is_shown_read_only(client, agent):
    catalog_form = form(MILLESIME)
    request_id = start(client, catalog_form)
    page = client.get(f"/demandes/{request_id}/etapes/contacts").text
    assert "Contact fixé par votre éditeur" in page
    assert "Support Millésime Action Sociale" in page
    assert catalog_form.editor.contact.email in page
    assert 'name="contact_technique_email"' not in page  # no input: nothing to post
    # The controller's and the business contact's only.
    assert page.count("C’est moi</button>") == 2
    assert 'value="itsme:contact_technique"' not in page


def test_the_locked_contact_survives_a_crafted_post_and_its_me(client, agent):
    catalog_form = form(MILLESIME)
    request_id = start(client, catalog_form)
    expected = catalog_form.editor_contact_answers()
    answers = {**contact_answers(catalog_form), **CRAFTED}
    response = post_step(client, request_id, "contacts", answers)
    assert response.status_code == 302, response.text  # the step is valid: the rest was typed
    data = reload(AuthorizationRequest, request_id).data
    assert {key: data[key] for key in expected} == expected
    post_step(client, request_id, "contacts", CRAFTED, action="itsme:contact_technique")
    request = reload(AuthorizationRequest, request_id)
    assert {key: request.data[key] for key in expected} == expected
    assert {c.contact_type: c.email for c in request.contacts}["contact_technique"] == (
        catalog_form.editor.contact.email
    )


def test_a_demarche_with_a_locked_contact_is_submitted_and_summarised(client, agent):
    catalog_form = form(MILLESIME)
    request_id = start(client, catalog_form)
    fill_all(client, catalog_form, request_id)
    summary = client.get(f"/demandes/{request_id}/etapes/synthese").text
    assert "Contact technique (support de l’éditeur Arche MC2)" in summary
    assert submit(client, request_id, catalog_form).status_code == 302
    assert reload(AuthorizationRequest, request_id).state == "submitted"


def test_an_editable_editor_contact_is_proposed_and_can_be_replaced(client, agent):
    catalog_form = form(SONATE)
    request_id = start(client, catalog_form)
    page = client.get(f"/demandes/{request_id}/etapes/contacts").text
    assert "Pré-rempli avec le support de votre éditeur Arpège" in page
    assert 'value="Support Sonate Opus"' in page
    assert page.count("C’est moi</button>") == 3
    # Kept as proposed: valid without a first name.
    others = {
        key: value
        for key, value in contact_answers(catalog_form).items()
        if not key.startswith("contact_technique_")
    }
    kept = {**others, **catalog_form.editor_contact_answers()}
    assert post_step(client, request_id, "contacts", kept).status_code == 302
    # Replaced by the applicant: « C’est moi » is a person, who needs a first name.
    post_step(client, request_id, "contacts", {}, action="itsme:contact_technique")
    data = reload(AuthorizationRequest, request_id).data
    assert data["contact_technique_given_name"] == "Léa"
    person = {**kept, "contact_technique_email": "julie@ccas.example.fr"}
    person["contact_technique_given_name"] = ""
    refused = post_step(client, request_id, "contacts", person)
    assert refused.status_code == 422
    assert "Indiquez le champ « Prénom » du contact « Contact technique »." in refused.text


def test_the_api_cannot_patch_a_locked_contact(app, client, db):
    headers, _ = bearer_for(client)
    request = authorization_requests.start_request_for_applicant(UserFactory(), form(MILLESIME))
    patched = client.patch(
        f"/api/v1/demandes/D{request.id}",
        json={"demande": {"data": {"contact_technique_email": "pirate@example.fr"}}},
        headers=headers,
    )
    assert patched.status_code == 422
    assert patched.get_json()["errors"][0]["title"] == "Champ verrouillé"
    assert reload(request).data["contact_technique_email"] == form(MILLESIME).editor.contact.email
