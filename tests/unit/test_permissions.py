"""Permission predicates and the workflow role a user holds on a request."""

from __future__ import annotations

import pytest
from flask_login import AnonymousUserMixin

from datapass import permissions, workflow
from datapass.models import Membership
from tests.factories import AuthorizationRequestFactory, OrganizationFactory, UserFactory


@pytest.fixture
def request_(db):
    return AuthorizationRequestFactory()


def test_applicant_acting_for_the_request_organisation(request_):
    assert permissions.workflow_role(request_.applicant, request_) == workflow.APPLICANT


def test_applicant_with_another_current_organisation_is_not_the_applicant(db, request_):
    applicant = request_.applicant
    other = OrganizationFactory()
    applicant.memberships.append(Membership(organization=other, verified=True))
    applicant.current_organization = other
    db.session.flush()
    # Still a verified member of the request's organisation.
    assert permissions.workflow_role(applicant, request_) == workflow.MEMBER


@pytest.mark.parametrize(
    ("roles", "expected"),
    [
        (["api_particulier:instructor"], workflow.INSTRUCTOR),
        (["api_particulier:manager"], workflow.INSTRUCTOR),
        (["admin"], workflow.INSTRUCTOR),
        (["api_particulier:reporter"], workflow.REPORTER),
        (["api_particulier:developer"], workflow.REPORTER),
        (["api_entreprise:instructor"], workflow.STRANGER),
        (["editor:arche_mc2"], workflow.STRANGER),  # an editor's staff: no definition role
        ([], workflow.STRANGER),
    ],
)
def test_roles_on_the_definition(db, request_, roles, expected):
    assert permissions.workflow_role(UserFactory(roles=roles), request_) == expected


def test_verified_and_unverified_members(db, request_):
    verified = UserFactory(current_organization=request_.organization)
    assert permissions.workflow_role(verified, request_) == workflow.MEMBER
    unverified = UserFactory(current_organization=None)
    unverified.memberships.append(Membership(organization=request_.organization, verified=False))
    assert permissions.workflow_role(unverified, request_) == workflow.STRANGER


def test_anonymous_is_a_stranger(request_):
    anonymous = AnonymousUserMixin()
    assert permissions.workflow_role(anonymous, request_) == workflow.STRANGER
    assert not permissions.can_report(anonymous, "api_particulier")
    assert not permissions.is_admin(anonymous)


def test_closed_organisation_cannot_start_requests(db):
    user = UserFactory()
    assert permissions.can_start_request(user)
    user.current_organization.administrative_state = "F"
    assert not permissions.can_start_request(user)
    assert not permissions.can_start_request(UserFactory(current_organization=None))


def test_developer_definitions_for_admins_developers_and_others(app, db):
    from datapass.catalog import get_catalog

    catalogue = list(get_catalog().definitions)
    assert permissions.developer_definitions(UserFactory(roles=["admin"])) == catalogue
    # Roles on a definition outside the catalogue do not count.
    developer = UserFactory(roles=["autre:developer", "api_particulier:developer"])
    assert permissions.developer_definitions(developer) == ["api_particulier"]
    assert permissions.developer_definitions(UserFactory(roles=["autre:developer"])) == []
    for roles in ([], ["api_particulier:instructor"], ["api_particulier:manager"]):
        assert permissions.developer_definitions(UserFactory(roles=roles)) == []
    assert permissions.developer_definitions(AnonymousUserMixin()) == []
    assert permissions.TEMPLATE_PREDICATES["developer_definitions"] is (
        permissions.developer_definitions
    )
