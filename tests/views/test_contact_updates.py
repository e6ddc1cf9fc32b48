"""« Mettre à jour les contacts » (issue 18 item 4): a contact of a validated habilitation is
replaced without a new review; the token stays, the new DPO is told, instructors and
webhooks are informed."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from datapass import outbox
from datapass.models import ApiToken, AuthorizationRequestEvent, OutboxJob
from datapass.services import authorization_requests, contact_updates, decisions
from tests.factories import UserFactory
from tests.support.authorization_requests import submitted_request
from tests.support.http import post_form, reload
from tests.support.webhooks import make_webhook

TECH_EMAIL = "support-technique@ccas-chaville.fr"
FORM_UID = "api-particulier-aides-sociales-ccas"
NEW_DPO = {
    "delegue_protection_donnees_family_name": "Nouveau",
    "delegue_protection_donnees_given_name": "Délégué",
    "delegue_protection_donnees_email": "nouveau.dpo@ccas-chaville.fr",
    "delegue_protection_donnees_phone_number": "01 41 15 40 01",
}
NEW_TECH = {
    "contact_technique_family_name": "Dupuis",
    "contact_technique_given_name": "Marc",
    "contact_technique_email": "marc.dupuis@ccas-chaville.fr",
    "contact_technique_phone_number": "01 41 15 40 02",
    "contact_technique_job_title": "Informaticien",
}


@pytest.fixture
def approved(app, db):
    applicant = UserFactory()
    instructor = UserFactory(roles=["api_particulier:instructor"])
    with app.test_request_context():
        authorization_request = submitted_request(
            applicant, form_uid=FORM_UID, contact_technique_email=TECH_EMAIL
        )
        decisions.decide(
            authorization_request, "approve", instructor, version=authorization_request.version
        )
    [authorization] = authorization_request.authorizations
    return authorization, applicant, instructor


def url_of(authorization) -> str:
    return f"/habilitations/{authorization.id}/contacts"


def post_contacts(client, authorization, data, *, version=None):
    page = client.get(url_of(authorization))
    assert page.status_code == 200, page.text[:300]
    version = authorization.request.version if version is None else version
    return post_form(client, url_of(authorization), {"version": version, **data}, page=page)


def token_of(authorization) -> ApiToken:
    [token] = reload(authorization).tokens
    return token


def test_the_applicant_replaces_the_dpo_and_keeps_the_token(
    app, client, db, approved, login_as, smtp, httpserver
):
    authorization, applicant, instructor = approved
    with app.test_request_context():
        outbox.drain()  # the approval's emails
    smtp.messages.clear()
    webhook = make_webhook(httpserver, events=["update_contacts"])
    httpserver.expect_request("/hook").respond_with_data("", status=204)
    before = token_of(authorization)
    token_id, token_hash, expires_at = before.id, before.token_hash, before.expires_at
    old_dpo = authorization.data["delegue_protection_donnees_email"]
    from datapass.services import register

    receipt_fingerprint = register.fingerprint(authorization)
    login_as(applicant)
    habilitation_page = client.get(f"/habilitations/{authorization.id}")
    assert "Mettre à jour les contacts" in habilitation_page.text

    response = post_contacts(client, authorization, NEW_DPO)

    assert response.status_code == 302, response.text[:500]
    authorization = reload(authorization)
    assert authorization.data["delegue_protection_donnees_email"] == "nouveau.dpo@ccas-chaville.fr"
    assert authorization.is_active
    # The receipts already printed stay valid: contacts are not in the fingerprint.
    assert register.fingerprint(authorization) == receipt_fingerprint
    assert authorization.request.data["delegue_protection_donnees_email"] == (
        "nouveau.dpo@ccas-chaville.fr"
    )
    assert authorization.request.state == "validated"
    token = token_of(authorization)
    assert (token.id, token.token_hash, token.revoked_at, token.expires_at) == (
        token_id,
        token_hash,
        None,
        expires_at,
    )
    event = db.session.scalars(
        select(AuthorizationRequestEvent).where(AuthorizationRequestEvent.name == "update_contacts")
    ).one()
    assert event.authorization_id == authorization.id
    assert event.user_id == applicant.id
    assert event.payload["changes"]["fields"]["delegue_protection_donnees_email"] == [
        old_dpo,
        "nouveau.dpo@ccas-chaville.fr",
    ]
    [job] = db.session.scalars(select(OutboxJob).where(OutboxJob.kind == "webhook")).all()
    assert job.payload["event"] == "update_contacts"
    assert job.payload["webhook_id"] == webhook.id
    assert "nouveau.dpo@ccas-chaville.fr" in job.payload["body"]

    with app.test_request_context():
        outbox.drain()
    sent = {str(m["To"]): str(m["Subject"]) for m in smtp.messages}
    assert sent["nouveau.dpo@ccas-chaville.fr"].startswith("Vous avez été désigné")
    assert old_dpo not in sent  # the former DPO is not designated again
    assert "ont été mis à jour" in sent[instructor.email]
    assert authorization.data["responsable_traitement_email"] not in sent  # unchanged

    # The timeline says what changed, on the request page.
    page = client.get(f"/demandes/{authorization.authorization_request_id}")
    assert "Mise à jour des contacts de l’habilitation" in page.text
    assert "nouveau.dpo@ccas-chaville.fr" in page.text


def test_an_invalid_contact_is_refused_next_to_its_field_and_nothing_is_lost(
    client, db, approved, login_as
):
    authorization, applicant, _ = approved
    before = dict(authorization.data)
    login_as(applicant)

    response = post_contacts(
        client, authorization, {**NEW_DPO, "delegue_protection_donnees_email": "pas-un-email"}
    )

    assert response.status_code == 422
    assert "<title>Erreur : Mettre à jour les contacts" in response.text
    assert 'id="delegue_protection_donnees_email-messages"' in response.text
    assert 'value="pas-un-email"' in response.text  # what was typed stays
    assert 'value="Nouveau"' in response.text
    assert reload(authorization).data == before
    assert not db.session.scalars(
        select(AuthorizationRequestEvent).where(AuthorizationRequestEvent.name == "update_contacts")
    ).all()


def test_a_page_older_than_the_request_is_refused_as_stale(client, db, approved, login_as):
    authorization, applicant, _ = approved
    before = dict(authorization.data)
    login_as(applicant)

    response = post_contacts(
        client, authorization, NEW_DPO, version=authorization.request.version - 1
    )

    assert response.status_code == 409
    assert "modifiée entre-temps" in response.text
    assert reload(authorization).data == before


def test_nothing_changed_is_said(client, db, approved, login_as):
    authorization, applicant, _ = approved
    login_as(applicant)
    same = authorization.data["delegue_protection_donnees_email"]
    response = post_contacts(client, authorization, {"delegue_protection_donnees_email": same})
    assert response.status_code == 422
    assert "Aucun contact n’a été modifié." in response.text


def test_the_technical_contact_replaces_only_the_technical_card(client, db, approved, login_as):
    authorization, _, _ = approved
    old_dpo = authorization.data["delegue_protection_donnees_email"]
    login_as(UserFactory(email=TECH_EMAIL, current_organization=None))
    page = client.get(url_of(authorization))
    assert 'name="contact_technique_email"' in page.text
    assert 'name="delegue_protection_donnees_email"' not in page.text

    response = post_contacts(client, authorization, {**NEW_TECH, **NEW_DPO})

    assert response.status_code == 302
    data = reload(authorization).data
    assert data["contact_technique_email"] == NEW_TECH["contact_technique_email"]
    assert data["delegue_protection_donnees_email"] == old_dpo  # not theirs to change
    # No longer the technical contact: the page is closed to them now.
    assert client.get(url_of(authorization)).status_code == 404


@pytest.mark.parametrize("who", ["colleague", "reporter", "instructor", "stranger"])
def test_others_may_not_update_the_contacts(client, db, approved, login_as, who):
    authorization, applicant, _ = approved
    before = dict(authorization.data)
    users = {
        "colleague": lambda: UserFactory(current_organization=applicant.current_organization),
        "reporter": lambda: UserFactory(roles=["api_particulier:reporter"]),
        "instructor": lambda: UserFactory(roles=["api_particulier:instructor"]),
        "stranger": lambda: UserFactory(),
    }
    login_as(users[who]())
    assert client.get(url_of(authorization)).status_code in (403, 404)
    response = client.post(
        url_of(authorization), data={"version": authorization.request.version, **NEW_DPO}
    )
    assert response.status_code in (400, 403, 404)
    assert reload(authorization).data == before


def test_not_on_a_reopened_nor_a_revoked_habilitation(app, client, db, approved, login_as):
    authorization, applicant, instructor = approved
    login_as(applicant)
    with app.test_request_context():
        authorization_requests.reopen_request(authorization.request, applicant)
    assert client.get(url_of(authorization)).status_code == 403
    with app.test_request_context():
        authorization_requests.cancel_reopening(authorization.request, applicant)
    assert client.get(url_of(authorization)).status_code == 200
    with app.test_request_context():
        decisions.revoke_authorization(authorization, instructor, reason="Fin")
    assert client.get(url_of(authorization)).status_code == 403
    assert "Mettre à jour les contacts" not in client.get(f"/habilitations/{authorization.id}").text


def test_a_contact_fixed_by_the_editor_is_not_offered(app, client, db, login_as):
    applicant = UserFactory()
    instructor = UserFactory(roles=["api_particulier:instructor"])
    with app.test_request_context():
        authorization_request = submitted_request(applicant)  # Arche MC2: its support, fixed
        decisions.decide(
            authorization_request, "approve", instructor, version=authorization_request.version
        )
    [authorization] = authorization_request.authorizations
    login_as(applicant)
    page = client.get(url_of(authorization))
    assert page.status_code == 200
    assert 'name="contact_technique_email"' not in page.text
    assert "Contact fixé par votre éditeur" in page.text  # shown read-only
    assert 'name="delegue_protection_donnees_email"' in page.text


def test_the_expected_formats_are_told_in_the_labels(client, db, approved, login_as):
    """RGAA 11.10, found by the audit: a format that is checked is a format told."""
    authorization, applicant, _ = approved
    login_as(applicant)
    html = client.get(url_of(authorization)).text
    email_label = html.split('for="delegue_protection_donnees_email"')[1].split("</label>")[0]
    phone_label = html.split('for="delegue_protection_donnees_phone_number"')[1].split("</label>")[
        0
    ]
    assert "Format attendu&nbsp;: nom@domaine.fr" in email_label.replace("\u00a0", "&nbsp;")
    assert "01 22 33 44 55" in phone_label


def test_the_service_refuses_a_revoked_habilitation(app, db, approved):
    authorization, applicant, instructor = approved
    with app.test_request_context():
        decisions.revoke_authorization(authorization, instructor, reason="Fin")
        with pytest.raises(contact_updates.ContactUpdateError, match="ne peuvent pas"):
            contact_updates.update_contacts(
                authorization,
                applicant,
                NEW_DPO,
                contact_types=("delegue_protection_donnees",),
                version=authorization.request.version,
            )
