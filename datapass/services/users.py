"""Roles granted by admins (also from the command line)."""

from __future__ import annotations

import logging

from sqlalchemy import select

from datapass.extensions import db
from datapass.models import User, UserRole
from datapass.models.audit import ROLE_GRANTED, ROLE_REVOKED
from datapass.models.user import ADMIN_ROLE, EDITOR_ROLE, ROLE_NAMES, editor_role
from datapass.services import audit, emails

logger = logging.getLogger(__name__)


class RoleError(ValueError):
    pass


def parse_role(role: str, definition_ids: set[str], editor_ids: set[str] = frozenset()) -> str:
    """``admin``, ``<definition>:<role>`` with a known definition and role name, or
    ``editor:<editor>`` with a known editor (``editor_ids``: the catalogue's editors)."""
    role = role.strip()
    if role == ADMIN_ROLE:
        return role
    definition, _, name = role.partition(":")
    if definition == EDITOR_ROLE:
        if name not in editor_ids:
            known = ", ".join(sorted(editor_ids)) or "none"
            raise RoleError(f"Unknown editor {name!r} (known: {known}).")
        return editor_role(name)
    if definition not in definition_ids:
        known = ", ".join(sorted(definition_ids))
        raise RoleError(f"Unknown definition {definition!r} (known: {known}).")
    if name not in ROLE_NAMES:
        raise RoleError(
            f"Unknown role {name!r} (known: {', '.join(ROLE_NAMES)}, or 'admin', or "
            "'editor:<editor>')."
        )
    return role


def editor_staff(editor_ids: list[str]) -> dict[str, list[User]]:
    """``{editor id: [users holding editor:<id>]}`` by email, in one query."""
    roles = {editor_role(editor_id): editor_id for editor_id in editor_ids}
    staff: dict[str, list[User]] = {editor_id: [] for editor_id in editor_ids}
    rows = db.session.execute(
        select(User, UserRole.role)
        .join(UserRole, UserRole.user_id == User.id)
        .where(UserRole.role.in_(list(roles)))
        .order_by(User.email)
    ).all()
    for user, role in rows:
        staff[roles[role]].append(user)
    return staff


def _notify_role_change(user: User, role: str, *, granted: bool, actor, reason) -> None:
    """Record the change in the audit log and email it to the administrators (no commit)."""
    entry = audit.record(
        ROLE_GRANTED if granted else ROLE_REVOKED,
        actor=actor,
        reason=reason,
        target_user=user,
        details={"role": role},
    )
    db.session.flush()
    emails.queue(
        "role_changed",
        list(db.session.scalars(administrators_emails())),
        {
            "user": user,
            "role": role,
            "granted": granted,
            "actor": actor,
            "reason": reason,
            "journal_url": emails.public_url("/admin/journal"),
        },
        event_id=f"audit-{entry.id}",
    )


def administrators_emails():
    return (
        select(User.email)
        .join(UserRole, UserRole.user_id == User.id)
        .where(UserRole.role == ADMIN_ROLE, User.banned_at.is_(None))
        .order_by(User.email)
    )


def grant_role(
    email: str, role: str, *, actor: User | None = None, reason: str | None = None
) -> tuple[User, bool]:
    """Grant ``role``; an unknown email gets a pending user that its first sign-in takes over.

    Returns the user and whether the role was new. A new role is written to the audit log
    (``actor``: None from the command line) and emailed to the administrators. Commits.
    """
    email = email.strip().lower()
    user = db.session.scalar(select(User).where(User.email == email))
    if user is None:
        user = User(email=email)
        db.session.add(user)
    added = role not in user.roles
    if added:
        user.role_grants.append(UserRole(role=role))
        db.session.flush()
        _notify_role_change(user, role, granted=True, actor=actor, reason=reason)
    db.session.commit()
    logger.info("role %s granted to user %s", role, user.id)
    return user, added


def revoke_role(
    email: str, role: str, *, actor: User | None = None, reason: str | None = None
) -> bool:
    """Revoke ``role``: audit log and email to the administrators, like ``grant_role``."""
    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        return False
    grant = next((g for g in user.role_grants if g.role == role), None)
    if grant is None:
        return False
    user.role_grants.remove(grant)
    db.session.delete(grant)
    _notify_role_change(user, role, granted=False, actor=actor, reason=reason)
    db.session.commit()
    logger.info("role %s revoked from user %s", role, user.id)
    return True
