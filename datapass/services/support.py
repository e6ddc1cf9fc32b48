"""Administrators' support tools on users (``/admin/utilisateurs``): search, roles with a
reason, ban and unban. Every change is written to the audit log in its transaction."""

from __future__ import annotations

import logging

from sqlalchemy import or_, select, update
from sqlalchemy.orm import selectinload

from datapass.errors import UserError
from datapass.extensions import db
from datapass.models import Membership, Organization, User, UserSession
from datapass.models.audit import USER_BANNED, USER_UNBANNED
from datapass.models.base import utcnow
from datapass.services import audit, users

logger = logging.getLogger(__name__)

PAGE_SIZE = 25
REASON_MISSING = "Indiquez le motif\u00a0: il est conservé dans le journal d’administration."
CANNOT_BAN_SELF = "Vous ne pouvez pas suspendre votre propre compte."
ALREADY_BANNED = "Ce compte est déjà suspendu."
NOT_BANNED = "Ce compte n’est pas suspendu."
ROLE_ALREADY_HELD = "Cette personne a déjà ce rôle."
ROLE_NOT_HELD = "Cette personne n’a pas ce rôle."


class SupportError(UserError):
    """A support action refused (French message, field ``reason`` or ``role`` when it is theirs)."""


def clean_reason(reason: str | None) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise SupportError(REASON_MISSING, field="reason")
    return reason


def search_users(
    query: str, *, before: int | None = None, size: int = PAGE_SIZE
) -> tuple[list[User], int | None]:
    """Users whose email or name contains ``query``, or a member of the SIRET it is;
    newest first, ``size`` a page (keyset on the id). Memberships come in one more query."""
    statement = select(User).options(
        selectinload(User.memberships).joinedload(Membership.organization)
    )
    query = (query or "").strip()
    if query:
        pattern = f"%{query.lower()}%"
        digits = query.replace(" ", "")
        by_siret = (
            select(Membership.user_id)
            .join(Organization, Organization.id == Membership.organization_id)
            .where(Organization.siret == digits)
        )
        statement = statement.where(
            or_(
                User.email.ilike(pattern),
                User.given_name.ilike(pattern),
                User.family_name.ilike(pattern),
                (User.given_name + " " + User.family_name).ilike(pattern),
                User.id.in_(by_siret),
            )
        )
    if before:
        statement = statement.where(User.id < before)
    rows = list(db.session.scalars(statement.order_by(User.id.desc()).limit(size + 1)))
    next_before = rows[size - 1].id if len(rows) > size else None
    return rows[:size], next_before


def change_role(user: User, role: str, *, grant: bool, admin: User, reason: str | None) -> None:
    """Grant or revoke a role from the user's page; the reason is mandatory. Commits."""
    reason = clean_reason(reason)
    if grant and role in user.roles:
        raise SupportError(ROLE_ALREADY_HELD, field="role")
    if not grant and role not in user.roles:
        raise SupportError(ROLE_NOT_HELD)
    if grant:
        users.grant_role(user.email, role, actor=admin, reason=reason)
    else:
        users.revoke_role(user.email, role, actor=admin, reason=reason)


def end_sessions_of(user: User) -> None:
    """Revoke every session of ``user`` and every impersonation of them (no commit)."""
    now = utcnow()
    db.session.execute(
        update(UserSession)
        .where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    db.session.execute(
        update(UserSession)
        .where(UserSession.impersonated_user_id == user.id)
        .values(impersonated_user_id=None, impersonation_reason=None, impersonation_expires_at=None)
    )


def ban(user: User, admin: User, reason: str | None) -> None:
    """Suspend the account: every session ends at once, sign-in is refused. Commits."""
    reason = clean_reason(reason)
    if user.id == admin.id:
        raise SupportError(CANNOT_BAN_SELF)
    if user.is_banned:
        raise SupportError(ALREADY_BANNED)
    user.banned_at = utcnow()
    user.ban_reason = reason[:255]
    end_sessions_of(user)
    audit.record(USER_BANNED, actor=admin, reason=reason, target_user=user)
    db.session.commit()
    logger.info("user %s banned by user %s", user.id, admin.id)


def unban(user: User, admin: User, reason: str | None) -> None:
    """Lift the suspension; the user signs in again. Commits."""
    reason = clean_reason(reason)
    if not user.is_banned:
        raise SupportError(NOT_BANNED)
    user.banned_at = None
    user.ban_reason = None
    audit.record(USER_UNBANNED, actor=admin, reason=reason, target_user=user)
    db.session.commit()
    logger.info("user %s unbanned by user %s", user.id, admin.id)
