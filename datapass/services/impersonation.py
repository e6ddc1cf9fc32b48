"""« Se connecter en tant que »: an administrator acts as another user, for support.

The administrator's own server-side session carries the impersonation (who, why, until
when: at most ``IMPERSONATION_MAX_MINUTES``), so it ends with that session, on
« Arrêter », at its time limit, or when the user is banned. While it lasts the signed-in
user is the impersonated one with ``impersonator`` set to the administrator: every write
is recorded with both identities (``services/audit.py``, and the timeline events), and
no token is revealed, rotated or prolonged, no decision taken (``forbid_while_impersonating``
in those services).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import current_app

from datapass.database import write_transaction
from datapass.errors import UserError
from datapass.extensions import db
from datapass.models import User, UserSession
from datapass.models.audit import IMPERSONATION_STARTED, IMPERSONATION_STOPPED
from datapass.models.base import utcnow
from datapass.services import audit, sessions
from datapass.services.support import SupportError, clean_reason

logger = logging.getLogger(__name__)

NOT_AN_ADMIN_TARGET = "Vous ne pouvez pas vous connecter en tant qu’un autre administrateur."
BANNED_TARGET = "Ce compte est suspendu\u00a0: impossible de se connecter en tant que lui."
ALREADY_IMPERSONATING = "Arrêtez d’abord la connexion « en tant que » en cours."
FORBIDDEN = (
    "Action impossible pendant une connexion « en tant que »\u00a0: arrêtez-la, la personne "
    "doit le faire elle-même."
)


class ImpersonationForbidden(UserError):
    """A token reveal, rotation, prolongation or a decision attempted while impersonating."""

    status = 403


def forbid_while_impersonating(user) -> None:
    """Refuse the action when ``user`` is being impersonated (called by the services)."""
    if getattr(user, "impersonator", None) is not None:
        raise ImpersonationForbidden(FORBIDDEN)


def max_duration() -> timedelta:
    return timedelta(minutes=current_app.config["IMPERSONATION_MAX_MINUTES"])


def _mark(user_session, row, user_id: int | None, until) -> None:
    """The row's impersonation columns, mirrored on the request's snapshot of the session
    (``g.user_session``, ``sessions.ActiveSession``) so that the rest of the request sees
    them."""
    for holder in (row, user_session):
        holder.impersonated_user_id = user_id
        holder.impersonation_expires_at = until


def start(
    user_session: sessions.ActiveSession | UserSession, target: User, reason: str | None
) -> None:
    """The administrator of ``user_session`` acts as ``target`` from now on. Commits."""
    reason = clean_reason(reason)
    row = sessions.row_of(user_session)
    admin = row.user
    if row.impersonated_user_id is not None:
        raise SupportError(ALREADY_IMPERSONATING)
    if target.is_admin or target.id == admin.id:
        raise SupportError(NOT_AN_ADMIN_TARGET)
    if target.is_banned:
        raise SupportError(BANNED_TARGET)
    until = min(utcnow() + max_duration(), row.expires_at)
    _mark(user_session, row, target.id, until)
    row.impersonation_reason = reason[:500]
    audit.record(
        IMPERSONATION_STARTED,
        actor=admin,
        reason=reason,
        target_user=target,
        details={"until": until.isoformat()},
    )
    db.session.commit()
    logger.info("user %s impersonates user %s", admin.id, target.id)


def stop(
    user_session: sessions.ActiveSession | UserSession,
    *,
    expired: bool = False,
    signed_out: bool = False,
) -> User | None:
    """End the impersonation of the session (on « Arrêter », at its limit, or when the
    administrator signs out). Commits. Returns the user who was impersonated (None when
    there was none)."""
    row = sessions.row_of(user_session)
    target = row.impersonated_user
    if target is None:
        return None
    target.impersonator = None
    _mark(user_session, row, None, None)
    row.impersonated_user = None
    row.impersonation_reason = None
    audit.record(
        IMPERSONATION_STOPPED,
        actor=row.user,
        target_user=target,
        details={"expired": expired, **({"signed_out": True} if signed_out else {})},
    )
    db.session.commit()
    logger.info("user %s stopped impersonating user %s", user_session.user_id, target.id)
    return target


def acting_user(user_session: sessions.ActiveSession, now) -> tuple[User, bool]:
    """Who the session acts as now, and whether an impersonation just expired (ended here,
    committed). The impersonated user carries ``impersonator``; anyone else none."""
    admin = user_session.user
    admin.impersonator = None
    if user_session.impersonated_user_id is None:
        return admin, False
    target = db.session.get(User, user_session.impersonated_user_id)
    if target is None:
        return admin, False
    expires_at = user_session.impersonation_expires_at
    if expires_at is None or now >= expires_at or target.is_banned or not admin.is_admin:
        # Ended while loading the session, maybe on a page that only reads: in a transaction
        # that may write (on SQLite, one that read first could not write under load).
        with write_transaction():
            stop(user_session, expired=True)
        return admin, True
    target.impersonator = admin
    return target, False
