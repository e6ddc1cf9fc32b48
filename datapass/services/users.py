"""Roles granted by admins (also from the command line)."""

from __future__ import annotations

import logging

from sqlalchemy import select

from datapass.extensions import db
from datapass.models import User, UserRole
from datapass.models.user import ADMIN_ROLE, EDITOR_ROLE, ROLE_NAMES, editor_role

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


def grant_role(email: str, role: str) -> tuple[User, bool]:
    """Grant ``role``; an unknown email gets a pending user that its first sign-in takes over.

    Returns the user and whether the role was new. Commits.
    """
    email = email.strip().lower()
    user = db.session.scalar(select(User).where(User.email == email))
    if user is None:
        user = User(email=email)
        db.session.add(user)
    added = role not in user.roles
    if added:
        user.role_grants.append(UserRole(role=role))
    db.session.commit()
    logger.info("role %s granted to user %s", role, user.id)
    return user, added


def revoke_role(email: str, role: str) -> bool:
    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        return False
    grant = next((g for g in user.role_grants if g.role == role), None)
    if grant is None:
        return False
    user.role_grants.remove(grant)
    db.session.delete(grant)
    db.session.commit()
    logger.info("role %s revoked from user %s", role, user.id)
    return True
