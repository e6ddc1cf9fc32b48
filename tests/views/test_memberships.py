"""Verified organisations through the pages: sign-in, what an unverified member sees, the
administrators' verification, the instructors' badge and check at approval."""

from __future__ import annotations

import pytest
from sqlalchemy import event, select

from datapass import workflow
from datapass.extensions import db as _db
from datapass.models import AuthorizationRequest, User
from datapass.models.organization import (
    IDENTITY_PROVIDER,
    UNTRUSTED_IDENTITY_PROVIDER,
    VERIFIED_BY_INSTRUCTION,
)
from datapass.services import decisions, organizations
from tests.factories import OrganizationFactory, UserFactory
from tests.support.authorization_requests import submitted_request
from tests.support.http import csrf_token, post_form, reload
from tests.support.memberships import unverified_agent
from tests.support.oidc import register_identity, sign_in

INSTRUCTOR = "api_particulier:instructor"
BADGE = "Rattachement non vérifié"
CHECK_LABEL = "J’ai vérifié que le demandeur agit pour cette organisation"
QUEUE = "/instruction/tableau-de-bord/demandes?tri=recent"


@pytest.fixture
def approve_as(app):
    """Approve a request through the service, as an instructor, in a request context."""

    def _approve(request, **kwargs):
        instructor = UserFactory(roles=[INSTRUCTOR])
        with app.test_request_context():
            return decisions.decide(
                request, "approve", instructor, version=request.version, **kwargs
            )

    return _approve


def membership(user, organization):
    return reload(user).membership_for(organization.id)


# ---------------------------------------------------------------- sign-in


def test_the_local_provider_names_itself_and_is_trusted(client, db, idp_url):
    register_identity(
        idp_url, "agent-local", {"email": "agent.local@ccas.example.fr", "siret": "26920023400012"}
    )
    assert sign_in(client, "agent-local").status_code == 302
    user = db.session.scalar(select(User).where(User.sub == "agent-local"))
    [found] = user.memberships
    assert found.verified and found.verification_reason == IDENTITY_PROVIDER


def test_a_siret_from_an_untrusted_provider_is_not_verified(client, db, idp_url):
    register_identity(
        idp_url,
        "agent-autre-fi",
        {
            "email": "agent.autre@ccas.example.fr",
            "siret": "26920023400012",
            "idp_id": "fournisseur-inconnu",
        },
    )
    assert sign_in(client, "agent-autre-fi").status_code == 302
    user = db.session.scalar(select(User).where(User.sub == "agent-autre-fi"))
    [found] = user.memberships
    assert not found.verified and found.verification_reason == UNTRUSTED_IDENTITY_PROVIDER
    assert "Non vérifié" in client.get("/compte").text


# ---------------------------------------------------------------- an unverified member


@pytest.fixture
def colleague_request(db, approve_as):
    """A verified member's approved request (and its habilitation)."""
    colleague = UserFactory()
    request = submitted_request(colleague)
    approve_as(request)
    return request


def test_an_unverified_member_sees_only_their_own_requests(client, db, login_as, colleague_request):
    organization = colleague_request.organization
    member = login_as(unverified_agent(organization))
    own = submitted_request(member)
    [authorization] = colleague_request.authorizations
    assert client.get(f"/demandes/{colleague_request.id}").status_code == 404
    assert client.get(f"/habilitations/{authorization.id}").status_code == 404
    assert client.get(f"/demandes/{own.id}").status_code == 200
    colleague_links = (f'/demandes/{colleague_request.id}"', f'/habilitations/{authorization.id}"')
    everything = client.get("/tableau-de-bord?filtre=organisation").text
    assert f'/demandes/{own.id}"' in everything
    assert not any(link in everything for link in colleague_links)

    # Once an administrator verified the membership: a colleague like any other.
    admin = UserFactory(roles=["admin"])
    organizations.verify_membership(member.membership_for(organization.id), admin, "Appel")
    assert client.get(f"/demandes/{colleague_request.id}").status_code == 200
    assert client.get(f"/habilitations/{authorization.id}").status_code == 200
    assert colleague_links[1] in client.get("/tableau-de-bord?filtre=organisation").text


def test_an_unverified_member_cannot_act_on_a_colleagues_habilitation(
    client, db, login_as, colleague_request
):
    login_as(unverified_agent(colleague_request.organization))
    [authorization] = colleague_request.authorizations
    token = csrf_token(client.get("/tableau-de-bord").text)
    for action in ("jeton/afficher", "jeton/renouveler", "prolongation"):
        response = client.post(
            f"/habilitations/{authorization.id}/{action}", data={"csrf_token": token}
        )
        assert response.status_code == 404, action
    assert reload(authorization.tokens[0]).revealed_at is None


# ---------------------------------------------------------------- administrators


@pytest.fixture
def unverified_request(db):
    return submitted_request(unverified_agent())


def test_only_administrators_verify_memberships(client, db, login_as, unverified_request):
    member_id = unverified_request.applicant.memberships[0].id
    login_as(roles=[INSTRUCTOR])
    assert client.get("/admin/rattachements").status_code == 403
    assert client.get(f"/admin/rattachements/{member_id}").status_code == 403
    token = csrf_token(client.get("/tableau-de-bord").text)
    response = client.post(
        f"/admin/rattachements/{member_id}", data={"csrf_token": token, "reason": "Moi"}
    )
    assert response.status_code == 403
    assert not reload(unverified_request.applicant).memberships[0].verified


def test_an_administrator_verifies_with_a_reason(client, db, login_as, unverified_request):
    applicant = unverified_request.applicant
    organization = unverified_request.organization
    admin = login_as(roles=["admin"])
    listing = client.get("/admin/rattachements")
    assert listing.status_code == 200
    assert applicant.email in listing.text and organization.siret in listing.text
    url = f"/admin/rattachements/{applicant.memberships[0].id}"
    assert url in listing.text
    page = client.get(url)
    assert f"D{unverified_request.id}" in page.text and "Motif de la vérification" in page.text

    refused = post_form(client, url, {"reason": "   "}, page=page)
    assert refused.status_code == 422
    assert "Indiquez le motif de la vérification" in refused.text
    assert not membership(applicant, organization).verified

    done = post_form(client, url, {"reason": "Appel au standard du CCAS le 3 mars"}, page=page)
    assert done.status_code == 302 and done.headers["Location"] == "/admin/rattachements"
    verified = membership(applicant, organization)
    assert verified.verified and verified.verified_by_id == admin.id
    assert verified.verification_reason == "Appel au standard du CCAS le 3 mars"
    assert verified.verified_at is not None
    assert url not in client.get("/admin/rattachements").text
    assert "Appel au standard du CCAS le 3 mars" in client.get(url).text
    again = post_form(client, url, {"reason": "Encore"}, page=page, follow_redirects=True)
    assert organizations.ALREADY_VERIFIED in again.text
    assert reload(verified).verification_reason == "Appel au standard du CCAS le 3 mars"


def test_the_membership_list_pages_by_keyset(client, db, login_as):
    organization = OrganizationFactory()
    submitted_request(unverified_agent(organization))
    for _ in range(30):
        unverified_agent(organization)
    login_as(roles=["admin"])
    first = client.get("/admin/rattachements").text
    assert first.count("/admin/rattachements/") == 25
    after = first.split('href="/admin/rattachements?apres=')[1].split('"')[0]
    second = client.get(f"/admin/rattachements?apres={after}").text
    assert second.count("/admin/rattachements/") == 6
    assert "apres=" not in second


# ---------------------------------------------------------------- instructors


def test_instructors_see_the_badge_on_the_request_and_in_the_queue(
    client, db, login_as, unverified_request
):
    verified_request = submitted_request()
    login_as(roles=[INSTRUCTOR])
    page = client.get(f"/instruction/demandes/{unverified_request.id}").text
    assert BADGE in page and "fr-badge--warning" in page
    assert BADGE not in client.get(f"/instruction/demandes/{verified_request.id}").text
    queue = client.get(QUEUE).text
    rows = {
        request_id: queue.split(f">D{request_id}<")[1].split("</tr>")[0]
        for request_id in (unverified_request.id, verified_request.id)
    }
    assert BADGE in rows[unverified_request.id] and BADGE not in rows[verified_request.id]


def test_approval_asks_for_the_check_then_verifies_the_membership(
    client, db, login_as, unverified_request
):
    applicant, organization = unverified_request.applicant, unverified_request.organization
    instructor = login_as(roles=[INSTRUCTOR])
    url = f"/instruction/demandes/{unverified_request.id}/decisions/approve"
    page = client.get(url)
    assert CHECK_LABEL in page.text and 'name="membership_checked"' in page.text
    version = str(unverified_request.version)

    refused = post_form(client, url, {"version": version, "reason": "Bravo"}, page=page)
    assert refused.status_code == 422
    assert decisions.MEMBERSHIP_CHECK_MISSING in refused.text
    assert 'id="membership_checked-message-error"' in refused.text  # next to the checkbox
    assert reload(AuthorizationRequest, unverified_request.id).state == workflow.SUBMITTED
    assert not membership(applicant, organization).verified

    data = {"version": version, "reason": "Bravo", "membership_checked": "y"}
    assert post_form(client, url, data, page=page).status_code == 302
    assert reload(AuthorizationRequest, unverified_request.id).state == workflow.VALIDATED
    verified = membership(applicant, organization)
    assert verified.verified and verified.verified_by_id == instructor.id
    assert verified.verification_reason == VERIFIED_BY_INSTRUCTION
    shown = client.get(f"/instruction/demandes/{unverified_request.id}").text
    assert "a vérifié que le demandeur agit pour cette organisation" in shown
    assert BADGE not in shown


def test_no_check_for_a_verified_applicant(client, db, login_as):
    request = submitted_request()
    login_as(roles=[INSTRUCTOR])
    page = client.get(f"/instruction/demandes/{request.id}/decisions/approve")
    assert CHECK_LABEL not in page.text
    url = f"/instruction/demandes/{request.id}/decisions/approve"
    assert post_form(client, url, {"version": str(request.version)}, page=page).status_code == 302
    assert (
        CHECK_LABEL not in client.get(f"/instruction/demandes/{request.id}/decisions/refuse").text
    )


def test_the_queue_query_count_stays_constant_with_unverified_applicants(client, db, login_as):
    login_as(roles=[INSTRUCTOR])

    def count() -> int:
        statements = []

        def record(*args):
            statements.append(args[2])

        event.listen(_db.engine, "before_cursor_execute", record)
        try:
            assert BADGE in client.get(QUEUE).text
        finally:
            event.remove(_db.engine, "before_cursor_execute", record)
        return len(statements)

    organization = OrganizationFactory()
    submitted_request(unverified_agent(organization))
    few = count()
    for _ in range(30):
        submitted_request(unverified_agent(organization))
        submitted_request()
    assert count() == few
