"""Verified organisations, the services called directly: which identity provider vouches for a
SIRET, a typed SIRET, an administrator's verification, the instructor's check at approval.

The same rules through the pages are in ``tests/views/test_memberships.py``.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from datapass import workflow
from datapass.errors import UserError
from datapass.models import Authorization, Membership, User
from datapass.models.organization import (
    DECLARED_BY_USER,
    DECLARED_IN_REQUEST,
    IDENTITY_PROVIDER,
    UNTRUSTED_IDENTITY_PROVIDER,
    VERIFIED_BY_INSTRUCTION,
)
from datapass.services import decisions, identity, organizations, presenter
from tests.factories import OrganizationFactory, UserFactory
from tests.support.authorization_requests import submitted_request
from tests.support.http import reload
from tests.support.memberships import unverified_agent
from tests.support.queries import recorded_statements

SIRET = "26920023400012"
INSTRUCTOR = "api_particulier:instructor"


@pytest.fixture(autouse=True)
def in_request(app, db):
    # Sign-in starts a session; timeline events queue emails whose links need a request.
    with app.test_request_context():
        yield


@pytest.fixture
def instructor(db):
    return UserFactory(roles=[INSTRUCTOR])


@pytest.fixture
def trusted(app, monkeypatch):
    """Set ``OIDC_SIRET_VERIFIED_IDPS`` for the test."""

    def _set(*idp_ids: str) -> None:
        monkeypatch.setitem(app.config, "OIDC_SIRET_VERIFIED_IDPS", tuple(idp_ids))

    return _set


def claims(sub: str, **extra) -> dict:
    return {"sub": sub, "email": f"{sub}@ccas.example.fr", "siret": SIRET, **extra}


# ---------------------------------------------------------------- identity providers


def test_the_local_provider_is_trusted_by_default_outside_production(app):
    assert app.config["OIDC_SIRET_VERIFIED_IDPS"] == ("local",)
    assert identity.siret_vouched_by("local")
    assert not identity.siret_vouched_by("autre-fournisseur")
    assert not identity.siret_vouched_by(None)


@pytest.mark.parametrize(
    ("setting", "idp_id", "vouched"),
    [
        ((), "local", False),
        (("fi-agents",), "fi-agents", True),
        (("fi-agents",), "fi-autre", False),
        (("fi-agents",), None, False),
        (("fi-agents", "fi-ministere"), "fi-ministere", True),
        (("*",), "fi-autre", True),
        (("*",), None, True),
    ],
)
def test_only_the_listed_providers_vouch_for_a_siret(trusted, setting, idp_id, vouched):
    trusted(*setting)
    assert identity.siret_vouched_by(idp_id) is vouched


def test_a_siret_from_an_untrusted_provider_is_an_unverified_membership(db, trusted):
    trusted("fi-agents")
    result = identity.sign_in(claims("untrusted", idp_id="fi-autre"))
    [membership] = reload(result.user).memberships
    assert membership.organization.siret == SIRET
    assert not membership.verified and membership.verified_at is None
    assert membership.verification_reason == UNTRUSTED_IDENTITY_PROVIDER
    assert result.user.current_organization.siret == SIRET  # they may still ask, for themselves


def test_a_siret_from_a_trusted_provider_is_a_verified_membership(db, trusted):
    trusted("fi-agents")
    result = identity.sign_in(claims("trusted", idp_id="fi-agents"))
    [membership] = reload(result.user).memberships
    assert membership.verified and membership.verification_reason == IDENTITY_PROVIDER
    assert membership.verified_at is not None and membership.verified_by is None


def test_a_later_sign_in_through_a_trusted_provider_verifies_the_membership(db, trusted):
    trusted("fi-agents")
    user = identity.sign_in(claims("later", idp_id="fi-autre")).user
    assert not user.memberships[0].verified
    identity.sign_in(claims("later", idp_id="fi-agents"))
    [membership] = reload(user).memberships
    assert membership.verified and membership.verification_reason == IDENTITY_PROVIDER


def test_an_untrusted_sign_in_never_unverifies(db, trusted):
    trusted("fi-agents")
    user = identity.sign_in(claims("kept", idp_id="fi-agents")).user
    identity.sign_in(claims("kept", idp_id="fi-autre"))
    assert reload(user).memberships[0].verified


def test_a_typed_siret_is_an_unverified_membership(db):
    user = UserFactory(current_organization=None)
    organization = organizations.join_organization_by_siret(user, SIRET)
    membership = reload(user).membership_for(organization.id)
    assert not membership.verified and membership.verification_reason == DECLARED_BY_USER


def test_a_siret_typed_in_the_wizard_is_unverified_and_the_api_attaches_no_one(db):
    from datapass.catalog import get_catalog
    from datapass.services import authorization_requests

    agent = UserFactory()
    request = authorization_requests.start_request_for_applicant(
        agent, get_catalog().form("api-particulier-aides-sociales-ccas")
    )
    organization = authorization_requests.confirm_organization(request, agent, SIRET)
    typed = reload(agent).membership_for(organization.id)
    assert not typed.verified and typed.verification_reason == DECLARED_IN_REQUEST

    # The API names no member: it invites, and the draft exists only once claimed.
    from datapass.services import invitations

    invited = invitations.create_by_api(
        get_catalog().form("api-particulier-aides-sociales-ccas"),
        siret="13002526500013",
        email="nouvel.agent@ccas.example.fr",
        answers={},
        client_id="dpc_test",
    )
    assert invited.state == "sent"
    assert not db.session.scalar(
        select(func.count()).select_from(User).where(User.email == "nouvel.agent@ccas.example.fr")
    )


# ---------------------------------------------------------------- administrators


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_an_administrator_verification_needs_a_reason(db, reason):
    member = unverified_agent()
    admin = UserFactory(roles=["admin"])
    with pytest.raises(UserError) as refused:
        organizations.verify_membership(member.memberships[0], admin, reason)
    assert refused.value.field == "reason"
    assert refused.value.message == organizations.REASON_MISSING
    membership = reload(member).memberships[0]
    assert not membership.verified and membership.verified_by_id is None


def test_an_administrator_verification_is_recorded(db):
    member = unverified_agent()
    admin = UserFactory(roles=["admin"])
    organizations.verify_membership(
        member.memberships[0], admin, "  Appel au standard de la mairie le 3 mars  "
    )
    membership = reload(member).memberships[0]
    assert membership.verified and membership.verified_by_id == admin.id
    assert membership.verified_at is not None
    assert membership.verification_reason == "Appel au standard de la mairie le 3 mars"
    assert membership.reason_label == "Appel au standard de la mairie le 3 mars"
    with pytest.raises(UserError) as refused:
        organizations.verify_membership(membership, admin, "Encore")
    assert refused.value.message == organizations.ALREADY_VERIFIED


def test_the_list_holds_unverified_memberships_of_organisations_with_requests(db):
    with_request = unverified_agent()
    submitted_request(with_request)
    colleague = unverified_agent(with_request.current_organization)  # no request of their own
    unverified_agent()  # an organisation without requests
    verified = UserFactory(current_organization=with_request.current_organization)
    rows, next_after = organizations.unverified_memberships_page()
    listed = {row.membership.user_id: row.requests for row in rows}
    assert listed == {with_request.id: 1, colleague.id: 0}
    assert verified.id not in listed and next_after is None


def test_the_list_is_paginated_in_one_query_per_page(db):
    organization = OrganizationFactory()
    submitted_request(unverified_agent(organization))
    for _ in range(organizations.PAGE_SIZE + 5):
        unverified_agent(organization)
    with recorded_statements() as statements:
        first, after = organizations.unverified_memberships_page()
        for row in first:  # member and organisation are loaded with the page
            assert row.membership.user.email and row.membership.organization.siret
    assert len(statements) == 1
    second, last = organizations.unverified_memberships_page(after=after)
    assert len(first) == organizations.PAGE_SIZE and len(second) == 6 and last is None
    ids = [row.membership.id for row in first + second]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == len(ids)


# ---------------------------------------------------------------- the instructor's check


def membership_of(request) -> Membership:
    return reload(request.applicant).membership_for(request.organization_id)


def test_approving_an_unverified_applicant_needs_the_check(db, instructor):
    request = submitted_request(unverified_agent())
    with pytest.raises(decisions.DecisionError) as refused:
        decisions.decide(request, "approve", instructor, version=request.version)
    assert refused.value.field == decisions.MEMBERSHIP_CHECK_FIELD
    assert refused.value.message == decisions.MEMBERSHIP_CHECK_MISSING
    request = reload(request)
    assert request.state == workflow.SUBMITTED and request.authorizations == []
    assert not membership_of(request).verified
    assert db.session.scalar(select(func.count()).select_from(Authorization)) == 0


def test_the_check_approves_and_verifies_the_membership(db, instructor):
    request = submitted_request(unverified_agent())
    decisions.decide(
        request, "approve", instructor, version=request.version, membership_checked=True
    )
    request = reload(request)
    assert request.state == workflow.VALIDATED
    membership = membership_of(request)
    assert membership.verified and membership.verified_by_id == instructor.id
    assert membership.verification_reason == VERIFIED_BY_INSTRUCTION
    assert membership.verified_at is not None
    approval = next(e for e in request.events if e.name == "approve")
    assert approval.payload["membership_checked"] is True
    assert presenter.describe_event(approval, None) == [presenter.MEMBERSHIP_CHECKED]


def test_an_applicant_without_any_membership_is_checked_too(db, instructor):
    request = submitted_request(unverified_agent())
    applicant = request.applicant
    applicant.memberships.clear()
    db.session.commit()
    with pytest.raises(decisions.DecisionError):
        decisions.decide(request, "approve", instructor, version=request.version)
    decisions.decide(
        request, "approve", instructor, version=request.version, membership_checked=True
    )
    assert membership_of(request).verified


def test_a_verified_applicant_needs_no_check_and_the_timeline_says_nothing(db, instructor):
    request = submitted_request()
    decisions.decide(request, "approve", instructor, version=request.version)
    approval = next(e for e in reload(request).events if e.name == "approve")
    assert "membership_checked" not in approval.payload
    assert presenter.describe_event(approval, None) == []
    membership = membership_of(request)
    assert membership.verified and membership.verified_by_id is None


def test_other_decisions_need_no_check(db, instructor):
    request = submitted_request(unverified_agent())
    decisions.decide(request, "refuse", instructor, version=request.version, reason="Non")
    assert reload(request).state == workflow.REFUSED
    assert not membership_of(request).verified
