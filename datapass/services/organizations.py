"""Organisations: find or create by SIRET, refresh from the registry, memberships.

A membership is verified when a trusted identity provider asserted the SIRET
(``services.identity``), when an administrator checked it (``verify_membership``, from
``/admin/rattachements``) or when an instructor approved a request after checking that its
applicant acts for the organisation (``services.decisions``). A SIRET typed by the user (account,
wizard) or named by an API client makes an unverified membership.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import exists, false, func, select
from sqlalchemy.orm import contains_eager, joinedload

from datapass.errors import UserError
from datapass.extensions import db
from datapass.models import Authorization, AuthorizationRequest, Membership, Organization, User
from datapass.models.audit import MEMBERSHIP_VERIFIED
from datapass.models.base import utcnow
from datapass.models.organization import DECLARED_BY_USER
from datapass.services import audit, sirene
from datapass.siret import validate_siret

logger = logging.getLogger(__name__)

REFRESH_AFTER = timedelta(hours=24)


def needs_refresh(organization: Organization) -> bool:
    last = organization.last_refreshed_at
    return last is None or utcnow() - last > REFRESH_AFTER


def refresh_organization(organization: Organization, *, force: bool = False) -> bool:
    """Update the organisation from the registry when stale. Never raises on registry faults.

    Returns True when fresh data were stored. An unknown SIRET or an unreachable
    registry leaves the organisation « non vérifiée » (``last_refreshed_at`` unchanged).
    """
    if not force and not needs_refresh(organization):
        return False
    try:
        info = sirene.lookup_establishment(organization.siret, current_app.config)
    except sirene.SireneError as error:
        logger.warning(
            "registry lookup failed for organisation %s: %s",
            organization.siret,
            type(error).__name__,
        )
        return False
    organization.name = info.name
    organization.address = info.address
    organization.commune = info.commune
    organization.naf_code = info.naf_code
    organization.naf_label = info.naf_label
    organization.legal_category = info.legal_category
    organization.administrative_state = info.administrative_state
    organization.insee_payload = info.payload
    organization.last_refreshed_at = utcnow()
    return True


def find_or_create_organization(siret: str) -> Organization:
    """The organisation for a (validated) SIRET, created and looked up if new, refreshed if stale.

    Raises ``datapass.siret.InvalidSiret`` on a malformed number. No commit.
    """
    siret = validate_siret(siret)
    organization = db.session.scalar(select(Organization).where(Organization.siret == siret))
    if organization is None:
        organization = Organization(siret=siret)
        db.session.add(organization)
    refresh_organization(organization)
    return organization


def mark_verified(
    membership: Membership, reason: str, *, by: User | None = None, now: datetime | None = None
) -> None:
    """Record that the membership is verified: when, by whom (none for an identity
    provider), why. No commit."""
    membership.verified = True
    membership.verified_at = now or utcnow()
    membership.verified_by = by
    membership.verification_reason = reason
    if by is not None:
        audit.record(
            MEMBERSHIP_VERIFIED,
            actor=by,
            reason=reason,
            target_user=membership.user,
            organization_id=membership.organization_id or membership.organization.id,
        )


def add_membership(
    user: User, organization: Organization, *, verified: bool, reason: str
) -> Membership:
    """Link the user to the organisation (upgrading to verified when asked). No commit."""
    membership = user.membership_for(organization.id) if organization.id else None
    if membership is None:
        membership = next((m for m in user.memberships if m.organization is organization), None)
    if membership is None:
        membership = Membership(organization=organization, verified=False)
        membership.verification_reason = reason
        user.memberships.append(membership)
    if verified and not membership.verified:
        mark_verified(membership, reason)
    return membership


def join_organization_by_siret(user: User, raw_siret: str) -> Organization:
    """The user types a SIRET: validated, looked up, linked as an unverified membership."""
    organization = find_or_create_organization(raw_siret)
    add_membership(user, organization, verified=False, reason=DECLARED_BY_USER)
    user.current_organization = organization
    db.session.commit()
    return organization


def switch_current_organization(user: User, organization_id: int) -> bool:
    membership = user.membership_for(organization_id)
    if membership is None:
        return False
    user.current_organization = membership.organization
    db.session.commit()
    return True


# ---------------------------------------------------------------- verification


REASON_MISSING = "Indiquez le motif de la vérification : comment vous l’avez contrôlé."
ALREADY_VERIFIED = "Ce rattachement est déjà vérifié."
PAGE_SIZE = 25


def applicant_membership(authorization_request: AuthorizationRequest) -> Membership | None:
    """The applicant's membership of the request's organisation (none if they have none)."""
    return authorization_request.applicant.membership_for(authorization_request.organization_id)


def applicant_is_verified(authorization_request: AuthorizationRequest) -> bool:
    """Is the applicant a verified member of the request's organisation?"""
    membership = applicant_membership(authorization_request)
    return membership is not None and membership.verified


def verify_membership(membership: Membership, admin: User, reason: str) -> Membership:
    """An administrator verified the membership (``/admin/rattachements``), saying how.
    Commits; refuses (``UserError``, field ``reason``) without a reason."""
    reason = (reason or "").strip()
    if not reason:
        raise UserError(REASON_MISSING, field="reason")
    if membership.verified:
        raise UserError(ALREADY_VERIFIED)
    mark_verified(membership, reason[:500], by=admin)
    db.session.commit()
    return membership


@dataclass(frozen=True)
class UnverifiedRow:
    membership: Membership
    requests: int  # the member's requests for that organisation


def unverified_memberships_page(
    *, after: int | None = None
) -> tuple[list[UnverifiedRow], int | None]:
    """Unverified memberships of organisations that have requests, newest first, by keyset on
    the id: one query per page (member, organisation and their count of requests included).
    Returns the rows and the cursor of the next page (none on the last one)."""
    own_requests = (
        select(func.count())
        .where(
            AuthorizationRequest.organization_id == Membership.organization_id,
            AuthorizationRequest.applicant_id == Membership.user_id,
        )
        .scalar_subquery()
    )
    statement = (
        select(Membership, own_requests)
        .join(Membership.user)
        .join(Membership.organization)
        .options(
            # Roles are not shown: no second (selectin) query for them.
            contains_eager(Membership.user).lazyload(User.role_grants),
            contains_eager(Membership.organization),
        )
        .where(
            Membership.verified == false(),
            exists().where(AuthorizationRequest.organization_id == Membership.organization_id),
        )
    )
    if after:
        statement = statement.where(Membership.id < after)
    rows = db.session.execute(statement.order_by(Membership.id.desc()).limit(PAGE_SIZE + 1)).all()
    page = [UnverifiedRow(membership, count or 0) for membership, count in rows[:PAGE_SIZE]]
    return page, (page[-1].membership.id if len(rows) > PAGE_SIZE else None)


def member_requests(membership: Membership) -> list[AuthorizationRequest]:
    """The member's requests for the membership's organisation, newest first."""
    return list(
        db.session.scalars(
            select(AuthorizationRequest)
            .where(
                AuthorizationRequest.organization_id == membership.organization_id,
                AuthorizationRequest.applicant_id == membership.user_id,
            )
            .order_by(AuthorizationRequest.id.desc())
            .limit(100)
        )
    )


@dataclass(frozen=True)
class OrganizationOverview:
    """The administrators' page of an organisation (``/admin/organisations/<id>``)."""

    memberships: list[Membership]
    authorization_requests: list[AuthorizationRequest]
    next_before: int | None
    authorizations: list[Authorization]


OVERVIEW_PAGE_SIZE = 25


def organization_overview(
    organization: Organization, *, before: int | None = None, size: int = OVERVIEW_PAGE_SIZE
) -> OrganizationOverview:
    """Its memberships (verified or not), its requests newest first, ``size`` a page
    (keyset on the id), its habilitations: four queries whatever their number."""
    memberships = db.session.scalars(
        select(Membership)
        .options(joinedload(Membership.user))
        .where(Membership.organization_id == organization.id)
        .order_by(Membership.verified.desc(), Membership.id)
        .limit(500)
    ).all()
    query = (
        select(AuthorizationRequest)
        .options(joinedload(AuthorizationRequest.applicant))
        .where(AuthorizationRequest.organization_id == organization.id)
    )
    if before:
        query = query.where(AuthorizationRequest.id < before)
    rows = list(db.session.scalars(query.order_by(AuthorizationRequest.id.desc()).limit(size + 1)))
    authorizations = db.session.scalars(
        select(Authorization)
        .where(Authorization.organization_id == organization.id)
        .order_by(Authorization.id.desc())
        .limit(200)
    ).all()
    return OrganizationOverview(
        memberships=list(memberships),
        authorization_requests=rows[:size],
        next_before=rows[size - 1].id if len(rows) > size else None,
        authorizations=list(authorizations),
    )
