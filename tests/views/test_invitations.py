"""Requests prepared by the instruction and claimed by their future applicant (issue 17.1)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from datapass.models import AuthorizationRequest, Invitation, OutboxJob
from datapass.models.base import utcnow
from tests.factories import OrganizationFactory, UserFactory
from tests.support.oidc import csrf_token

INSTRUCTOR = "api_particulier:instructor"
FORM = "api-particulier-ccas-arche-mc2"
CCAS_SIRET = "26920023400012"


def _prepare(client, siret, email, **extra):
    page = client.get(f"/instruction/brouillons/nouveau?formulaire={FORM}")
    assert page.status_code == 200
    data = {"csrf_token": csrf_token(page.text), "siret": siret, "email": email, **extra}
    return client.post(f"/instruction/brouillons/nouveau?formulaire={FORM}", data=data)


def _invite(client, db, invitation_id) -> str:
    """« Inviter », then the secret of the link the email carries."""
    page = client.get(f"/instruction/brouillons/{invitation_id}")
    response = client.post(
        f"/instruction/brouillons/{invitation_id}/invitation",
        data={"csrf_token": csrf_token(page.text)},
    )
    assert response.status_code == 302
    job = db.session.scalars(
        select(OutboxJob).where(OutboxJob.kind == "email").order_by(OutboxJob.id.desc())
    ).first()
    assert job.payload["key"] == "invitation"
    return re.search(r"/invitations/([\w-]+)", job.payload["text"]).group(1)


def _requests(db) -> int:
    return db.session.scalar(select(func.count()).select_from(AuthorizationRequest))


@pytest.fixture
def prepared(client, db, login_as):
    """An instructor prepared a request for a CCAS and invited its future applicant."""
    organization = OrganizationFactory(siret=CCAS_SIRET)
    db.session.commit()
    login_as(roles=[INSTRUCTOR])
    response = _prepare(
        client,
        organization.siret,
        "Futur.Agent@CCAS.example.fr",
        intitule="Tarification des cantines",
        note="Merci de joindre la délibération.",
    )
    assert response.status_code == 302
    invitation = db.session.scalars(select(Invitation)).one()
    secret = _invite(client, db, invitation.id)
    return organization, invitation, secret


def test_the_invited_applicant_claims_a_normal_draft(client, db, login_as, prepared):
    organization, invitation, secret = prepared
    assert invitation.email == "futur.agent@ccas.example.fr"
    assert invitation.answers == {"intitule": "Tarification des cantines"}
    applicant = login_as(
        UserFactory(email="futur.agent@ccas.example.fr", current_organization=organization)
    )
    page = client.get(f"/invitations/{secret}")
    assert "Merci de joindre la délibération." in page.text
    response = client.post(f"/invitations/{secret}", data={"csrf_token": csrf_token(page.text)})
    assert response.status_code == 302
    draft = db.session.scalars(select(AuthorizationRequest)).one()
    assert (draft.applicant_id, draft.organization_id, draft.state) == (
        applicant.id,
        organization.id,
        "draft",
    )
    assert draft.data["intitule"] == "Tarification des cantines"
    event = draft.events[0]
    assert event.name == "prepared_by_instruction"
    assert event.payload["invitation"] == invitation.public_reference
    db.session.expire_all()
    assert db.session.get(Invitation, invitation.id).authorization_request_id == draft.id
    # Consumed: a second claim creates nothing.
    page = client.get(f"/invitations/{secret}")
    assert "déjà été utilisée" in page.text
    client.post(f"/invitations/{secret}", data={"csrf_token": csrf_token(page.text)})
    assert _requests(db) == 1


def test_another_email_cannot_claim(client, db, login_as, prepared):
    organization, _, secret = prepared
    login_as(UserFactory(email="autre@ccas.example.fr", current_organization=organization))
    page = client.get(f"/invitations/{secret}")
    assert "envoyée à une autre adresse électronique" in page.text
    assert "Reprendre la demande</button>" not in page.text
    response = client.post(f"/invitations/{secret}", data={"csrf_token": csrf_token(page.text)})
    assert response.status_code == 303  # back to the invitation, its message flashed
    assert _requests(db) == 0


def test_the_right_email_under_another_siret_cannot_claim(client, db, login_as, prepared):
    organization, _, secret = prepared
    login_as(UserFactory(email="futur.agent@ccas.example.fr"))  # acting for another CCAS
    page = client.get(f"/invitations/{secret}")
    assert f"préparée pour l’organisation de SIRET {organization.siret}" in page.text
    client.post(f"/invitations/{secret}", data={"csrf_token": csrf_token(page.text)})
    assert _requests(db) == 0


@pytest.mark.parametrize("how", ["expired", "cancelled"])
def test_expired_or_cancelled_invitations_cannot_be_claimed(client, db, login_as, prepared, how):
    organization, invitation, secret = prepared
    if how == "expired":
        invitation.expires_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
        message = "Cette invitation a expiré"
    else:
        page = client.get(f"/instruction/brouillons/{invitation.id}")
        client.post(
            f"/instruction/brouillons/{invitation.id}/annulation",
            data={"csrf_token": csrf_token(page.text)},
        )
        message = "Cette invitation a été annulée"
    login_as(UserFactory(email="futur.agent@ccas.example.fr", current_organization=organization))
    page = client.get(f"/invitations/{secret}")
    assert message in page.text
    client.post(f"/invitations/{secret}", data={"csrf_token": csrf_token(page.text)})
    assert _requests(db) == 0


def test_invitations_expire_after_the_configured_days(app, client, db, prepared):
    _, invitation, _ = prepared
    lifetime = invitation.expires_at - invitation.sent_at
    assert lifetime == timedelta(days=app.config["INVITATION_LIFETIME_DAYS"]) == timedelta(days=30)


def test_an_unknown_link_is_a_404_and_signed_out_visitors_sign_in_first(client, db, prepared):
    _, _, secret = prepared
    client.get("/deconnexion")
    with client.session_transaction() as session:
        session.clear()
    response = client.get(f"/invitations/{secret}")
    assert response.status_code == 302 and "connexion" in response.location


def test_bad_input_is_told_in_french_and_kept(client, db, login_as):
    login_as(roles=[INSTRUCTOR])
    response = _prepare(client, "123", "pas-une-adresse", intitule="Mon projet")
    assert response.status_code == 400
    assert "SIRET" in response.text and "adresse électronique valide" in response.text
    assert 'value="Mon projet"' in response.text
    assert db.session.scalar(select(func.count()).select_from(Invitation)) == 0


def test_only_instructors_of_the_definition_prepare(client, db, login_as, prepared):
    _, invitation, _ = prepared
    login_as(roles=["api_particulier:reporter"])
    assert client.get("/instruction/brouillons").status_code == 403
    assert client.get(f"/instruction/brouillons/{invitation.id}").status_code == 404
    login_as(roles=["autre_definition:instructor"])
    assert client.get("/instruction/brouillons").status_code == 403


def test_scopes_are_prepared_where_the_demarche_lets_the_applicant_choose(client, db, login_as):
    login_as(roles=[INSTRUCTOR])
    generic = "api-particulier-aides-sociales-ccas"
    page = client.get(f"/instruction/brouillons/nouveau?formulaire={generic}")
    assert 'name="scopes" value="cnaf_quotient_familial"' in page.text
    data = {
        "csrf_token": csrf_token(page.text),
        "siret": CCAS_SIRET,
        "email": "agent@ccas.example.fr",
        "scopes": ["cnaf_quotient_familial", "cnaf_enfants"],
    }
    response = client.post(f"/instruction/brouillons/nouveau?formulaire={generic}", data=data)
    assert response.status_code == 302
    invitation = db.session.scalars(select(Invitation)).one()
    assert invitation.answers == {"scopes": ["cnaf_quotient_familial", "cnaf_enfants"]}
