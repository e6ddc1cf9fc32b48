"""Who gets the token (issue « Who is who »): the applicant and the technical contact reveal,
rotate and prolong it, once in all; verified colleagues see it and may « Reprendre la
demande »."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm.attributes import set_committed_value

from datapass import workflow
from datapass.catalog import get_catalog
from datapass.errors import UserError
from datapass.models import ApiToken, Membership, OutboxJob
from datapass.services import authorization_requests, decisions, tokens, transfers
from datapass.services.tokens import TokenError
from tests.factories import UserFactory
from tests.support.authorization_requests import submitted_request
from tests.support.http import post_form, reload

TECH_EMAIL = "support-technique@ccas-chaville.fr"
# A démarche whose technical contact is a person the applicant names (Millésime's is its
# editor's support, fixed: see tests/views/test_editors.py for the editor's staff).
FORM_UID = "api-particulier-aides-sociales-ccas"


@pytest.fixture
def approved(app, db):
    applicant = UserFactory()
    with app.test_request_context():
        authorization_request = submitted_request(
            applicant, form_uid=FORM_UID, contact_technique_email=TECH_EMAIL
        )
        instructor = UserFactory(roles=["api_particulier:instructor"])
        decisions.decide(
            authorization_request, "approve", instructor, version=authorization_request.version
        )
    return authorization_request, applicant


def colleague_of(applicant, *, verified=True):
    user = UserFactory(current_organization=None)
    user.current_organization = applicant.current_organization
    user.memberships.append(
        Membership(organization=applicant.current_organization, verified=verified)
    )
    return user


def page_of(client, authorization):
    return client.get(f"/habilitations/{authorization.id}")


def test_the_technical_contact_reveals_the_token_without_being_a_member(
    client, db, approved, login_as
):
    authorization_request, _ = approved
    authorization = authorization_request.authorizations[0]
    contact = login_as(UserFactory(email=TECH_EMAIL, current_organization=None))
    page = page_of(client, authorization)
    assert "Afficher le jeton" in page.text
    response = post_form(client, f"/habilitations/{authorization.id}/jeton/afficher", page=page)
    assert 'id="token-value"' in response.text
    token = reload(authorization.tokens[0])
    assert token.revealed_by_id == contact.id and token.sealed_value is None
    # The applicant then learns who revealed it, and when.
    login_as(authorization_request.applicant)
    shown = page_of(client, authorization).text
    assert "Afficher le jeton" not in shown
    assert "Ce jeton a déjà été affiché le" in shown and contact.full_name in shown


def test_a_verified_colleague_sees_the_habilitation_but_cannot_hold_the_token(
    client, db, approved, login_as
):
    authorization_request, applicant = approved
    authorization = authorization_request.authorizations[0]
    login_as(colleague_of(applicant))
    page = page_of(client, authorization)
    assert page.status_code == 200
    assert "Afficher le jeton" not in page.text and "Renouveler le jeton" not in page.text
    assert "Reprendre la demande" in page.text
    for action in ("jeton/afficher", "jeton/renouveler", "prolongation"):
        url = f"/habilitations/{authorization.id}/{action}"
        assert post_form(client, url, page=page).status_code == 403
    token = reload(authorization.tokens[0])
    assert token.sealed_value is not None and token.revealed_at is None
    assert len(reload(authorization).tokens) == 1


def test_strangers_and_unverified_members_do_not_see_the_habilitation(
    client, db, approved, login_as
):
    authorization_request, applicant = approved
    authorization = authorization_request.authorizations[0]
    login_as()
    assert page_of(client, authorization).status_code == 404
    login_as(colleague_of(applicant, verified=False))
    assert page_of(client, authorization).status_code == 404


def test_the_first_reveal_wins_even_against_a_stale_copy(db, approved):
    """Two reveals racing: the second, holding a copy read before the first committed, loses."""
    authorization_request, applicant = approved
    token = authorization_request.authorizations[0].tokens[0]
    sealed = token.sealed_value  # read before the other reveal committed
    other = UserFactory(email=TECH_EMAIL)
    db.session.execute(
        update(ApiToken)
        .where(ApiToken.id == token.id)
        .values(sealed_value=None, revealed_by_id=other.id)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    set_committed_value(token, "sealed_value", sealed)  # this process's stale copy
    with pytest.raises(TokenError, match="déjà été affiché"):
        tokens.reveal(token, applicant)
    assert reload(token).revealed_by_id == other.id


def test_a_verified_colleague_takes_the_request_over_and_the_applicant_is_told(
    app, client, db, approved, login_as
):
    authorization_request, applicant = approved
    colleague = login_as(colleague_of(applicant))
    page = client.get(f"/demandes/{authorization_request.id}")
    assert "Reprendre la demande" in page.text
    response = post_form(client, f"/demandes/{authorization_request.id}/reprendre", page=page)
    assert response.status_code == 302
    authorization_request = reload(authorization_request)
    assert authorization_request.applicant_id == colleague.id
    event = authorization_request.events[-1]
    assert event.name == workflow.TRANSFER and event.payload["taken_over"] is True
    job = next(
        job
        for job in db.session.scalars(select(OutboxJob).order_by(OutboxJob.id.desc()))
        if job.payload.get("key") == "transferred"
    )
    assert applicant.email in job.payload["to"]
    assert "a repris la demande" in job.payload["text"]
    # The new applicant now holds the token; the former one no longer does.
    authorization = authorization_request.authorizations[0]
    assert "Afficher le jeton" in page_of(client, authorization).text
    login_as(applicant)
    assert "Afficher le jeton" not in page_of(client, authorization).text


def test_take_over_is_refused_to_unverified_members_strangers_and_on_plain_drafts(db, approved):
    authorization_request, applicant = approved
    for user in (colleague_of(applicant, verified=False), UserFactory(), applicant):
        with pytest.raises(UserError):
            transfers.take_over(authorization_request, user)
    assert reload(authorization_request).applicant_id == applicant.id
    draft_owner = UserFactory()
    draft = authorization_requests.start_request_for_applicant(
        draft_owner, get_catalog().form("api-particulier-ccas-arche-mc2")
    )
    with pytest.raises(UserError):
        transfers.take_over(draft, colleague_of(draft_owner))


def test_the_token_ready_email_sends_an_editor_to_its_space(app, db):
    applicant = UserFactory()
    with app.test_request_context():
        millesime = submitted_request(applicant)  # Arche MC2's support is the technical contact
        instructor = UserFactory(roles=["api_particulier:instructor"])
        decisions.decide(millesime, "approve", instructor, version=millesime.version)
    job = next(
        job
        for job in db.session.scalars(select(OutboxJob).order_by(OutboxJob.id.desc()))
        if job.payload.get("key") == "token_ready"
    )
    assert applicant.email in job.payload["to"]
    assert millesime.data["contact_technique_email"] in job.payload["to"]
    assert "l’équipe de l’éditeur Arche MC2" in job.payload["text"]
    assert "espace éditeur" in job.payload["text"]
