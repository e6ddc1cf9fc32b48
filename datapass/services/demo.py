"""Idempotent demo data for development and demonstrations."""

from __future__ import annotations

from sqlalchemy import select

from datapass.demo import (
    DEMO_INTROSPECTION_CLIENT,
    DEMO_ORGANIZATIONS,
    DEMO_REQUEST_ANSWERS,
    DEMO_REQUEST_FORM,
    DEMO_USERS,
)
from datapass.extensions import db
from datapass.models import (
    ApiClient,
    AuthorizationRequest,
    Membership,
    Organization,
    User,
    UserRole,
)
from datapass.models.base import utcnow
from datapass.models.organization import DEMO
from datapass.models.token import CLIENT_INTROSPECTION


def seed_demo_data() -> dict[str, int]:
    """Create or update the demo organisations and users (with exactly their roles); safe
    to run many times."""
    created = {"organizations": 0, "users": 0}
    organizations = {}
    for values in DEMO_ORGANIZATIONS:
        organization = db.session.scalar(
            select(Organization).where(Organization.siret == values["siret"])
        )
        if organization is None:
            organization = Organization(siret=values["siret"])
            db.session.add(organization)
            created["organizations"] += 1
        for key, value in values.items():
            setattr(organization, key, value)
        organization.last_refreshed_at = organization.last_refreshed_at or utcnow()
        organizations[values["siret"]] = organization

    for values in DEMO_USERS:
        user = db.session.scalar(select(User).where(User.email == values["email"]))
        if user is None:
            user = User(email=values["email"])
            db.session.add(user)
            created["users"] += 1
        user.sub = values["sub"]
        user.given_name = values["given_name"]
        user.family_name = values["usual_name"]
        user.phone_number = values["phone"]
        user.job_title = values["job_title"]
        organization = organizations[values["siret"]]
        if not any(m.organization is organization for m in user.memberships):
            user.memberships.append(
                Membership(
                    organization=organization,
                    verified=True,
                    verification_reason=DEMO,
                    verified_at=utcnow(),
                )
            )
        user.current_organization = organization
        # A demo identity holds exactly its listed roles (an older seed's are taken back).
        for grant in [g for g in user.role_grants if g.role not in values["roles"]]:
            user.role_grants.remove(grant)
            db.session.delete(grant)
        for role in values["roles"]:
            if role not in user.roles:
                user.role_grants.append(UserRole(role=role))
    db.session.commit()
    created["requests"] = _seed_demo_request()
    _seed_introspection_client()
    return created


def _seed_introspection_client() -> None:
    from datapass.crypto import digest

    values = DEMO_INTROSPECTION_CLIENT
    client = db.session.scalar(select(ApiClient).where(ApiClient.client_id == values["client_id"]))
    if client is None:
        db.session.add(
            ApiClient(
                client_id=values["client_id"],
                secret_hash=digest(values["secret"]),
                name=values["name"],
                kind=CLIENT_INTROSPECTION,
                definition_id=values["definition_id"],
            )
        )
        db.session.commit()


def _seed_demo_request() -> int:
    """The demo CCAS agent's submitted request, once."""
    from datapass.catalog import get_catalog
    from datapass.services import authorization_requests, submission

    applicant = db.session.scalar(select(User).where(User.sub == DEMO_USERS[0]["sub"]))
    if applicant is None or db.session.scalar(
        select(AuthorizationRequest.id).where(AuthorizationRequest.applicant_id == applicant.id)
    ):
        return 0
    catalog_form = get_catalog().form(DEMO_REQUEST_FORM)
    authorization_request = authorization_requests.start_request_for_applicant(
        applicant, catalog_form
    )
    typed = {
        key: value for answers in DEMO_REQUEST_ANSWERS.values() for key, value in answers.items()
    }
    authorization_requests.fill_request(authorization_request, catalog_form, typed)
    result = submission.submit_request(
        authorization_request, catalog_form, applicant, terms_accepted=True, dpo_informed=True
    )
    if not result.ok:
        raise RuntimeError(f"the demo request is invalid: {result.errors}")
    return 1
