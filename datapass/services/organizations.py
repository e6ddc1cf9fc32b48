"""Organisations: find or create by SIRET, refresh from the registry, memberships."""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from datapass.extensions import db
from datapass.models import Membership, Organization, User
from datapass.models.base import utcnow
from datapass.services import sirene
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


def add_membership(
    user: User, organization: Organization, *, verified: bool, reason: str
) -> Membership:
    """Link the user to the organisation (upgrading to verified when asked). No commit."""
    membership = user.membership_for(organization.id) if organization.id else None
    if membership is None:
        membership = next((m for m in user.memberships if m.organization is organization), None)
    if membership is None:
        membership = Membership(organization=organization, verified=verified)
        membership.verification_reason = reason
        user.memberships.append(membership)
    elif verified and not membership.verified:
        membership.verified = True
        membership.verification_reason = reason
    return membership


def join_organization_by_siret(user: User, raw_siret: str) -> Organization:
    """The user types a SIRET: validated, looked up, linked as an unverified membership."""
    organization = find_or_create_organization(raw_siret)
    add_membership(user, organization, verified=False, reason="declared_by_user")
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
