"""Server-side sessions behind the signed session cookie."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from flask import current_app
from sqlalchemy import bindparam, func, literal_column, select, update
from sqlalchemy.orm import lazyload

from datapass.database import first_row
from datapass.extensions import db
from datapass.models import User, UserRole, UserSession
from datapass.models.base import utcnow
from datapass.models.user import SessionUser
from datapass.models.user_session import hash_session_key
from datapass.services.compiled_once import CompiledOnce


def start_session(user: User, *, now: datetime | None = None) -> str:
    """Create a session row; return the random key to keep in the cookie. No commit."""
    now = now or utcnow()
    key = secrets.token_urlsafe(32)
    lifetime = timedelta(hours=current_app.config["SESSION_LIFETIME_HOURS"])
    db.session.add(
        UserSession(
            key_hash=hash_session_key(key), user=user, created_at=now, expires_at=now + lifetime
        )
    )
    return key


# Between the roles aggregated by the session's statement: no role name contains it (roles
# are catalogue ids, ``users.parse_role``). A literal of the SQL text, not a parameter:
# ``aggregate_strings`` would render a parameter into the SQL at every execution.
ROLE_SEPARATOR = "\n"


@dataclass(slots=True)
class ActiveSession:
    """The session row's columns that every page needs, beside its user (``load_session``).

    Not an ORM object: reading it costs no object of its own. The services that write the
    session (impersonation, sign-out) load the row itself (``row_of``)."""

    key_hash: str
    user: User | SessionUser
    expires_at: datetime
    revoked_at: datetime | None
    impersonated_user_id: int | None
    impersonation_expires_at: datetime | None

    @property
    def user_id(self) -> int:
        return self.user.id

    is_active = UserSession.is_active


# The session row's columns read with its user, in this order (``ActiveSession``).
SESSION_COLUMNS = ("expires_at", "revoked_at", "impersonated_user_id", "impersonation_expires_at")


def _roles_subquery():
    """The user's roles aggregated into one string (a scalar subquery, on the roles'
    ``user_id`` index). The roles come as plain values: no collection is hydrated
    (``User.roles`` serves them while ``role_grants`` is not loaded)."""
    return (
        select(func.aggregate_strings(UserRole.role, literal_column(f"'{ROLE_SEPARATOR}'")))
        .where(UserRole.user_id == User.id)
        .scalar_subquery()
    )


@cache
def _session_statement():
    """The first query of a request that may write, built once (its compiled form is then
    cached by SQLAlchemy too): the ORM user of the session row found by its primary key, the
    row's columns the pages need, and the user's roles."""
    return (
        select(User, *(getattr(UserSession, c) for c in SESSION_COLUMNS), _roles_subquery())
        .select_from(UserSession)
        .join(User, UserSession.user_id == User.id)
        .where(UserSession.key_hash == bindparam("key_hash"))
        .options(lazyload(User.role_grants))
    )


@cache
def _read_statement() -> CompiledOnce:
    """The first query of a page that only reads: the same row as ``_session_statement``
    but as plain columns (Core: no ORM execution, no identity map, no ``User`` built), for
    a ``SessionUser``; with its own compiled cache (its cache key not hashed at every
    request, ``compiled_once``)."""
    users, user_sessions = User.__table__, UserSession.__table__
    return CompiledOnce(
        select(
            *(users.c[c] for c in SessionUser.COLUMNS),
            *(user_sessions.c[c] for c in SESSION_COLUMNS),
            _roles_subquery(),
        )
        .select_from(user_sessions.join(users, user_sessions.c.user_id == users.c.id))
        .where(user_sessions.c.key_hash == bindparam("key_hash"))
    )


def load_session(key: str | None, *, writing: bool = True) -> ActiveSession | None:
    """The session, its user and the user's roles in one query (by the primary key's
    index), or None. ``writing``: the user is the ORM ``User`` (a request that may write);
    else a read-only ``SessionUser`` whose ``entity`` loads the ``User`` when needed."""
    if not key:
        return None
    key_hash = hash_session_key(key)
    parameters = {"key_hash": key_hash}
    if writing:
        row = db.session.execute(_session_statement(), parameters).first()
        if row is None:
            return None
        user, *session_columns, roles = row
        user.keep_roles(roles.split(ROLE_SEPARATOR) if roles else ())
    else:
        row = first_row(lambda connection: _read_statement().execute(connection, parameters))
        if row is None:
            return None
        width = len(SessionUser.COLUMNS)
        *session_columns, roles = row[width:]
        user = SessionUser(row[:width], roles.split(ROLE_SEPARATOR) if roles else ())
    return ActiveSession(key_hash, user, *session_columns)


def row_of(user_session: ActiveSession | UserSession) -> UserSession:
    """The ORM row of a session, to write it (one lookup by the primary key)."""
    if isinstance(user_session, UserSession):
        return user_session
    return db.session.get(UserSession, user_session.key_hash)


def end_session(key: str | None) -> None:
    if key:
        db.session.execute(
            update(UserSession)
            .where(UserSession.key_hash == hash_session_key(key), UserSession.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
        db.session.commit()


def end_all_sessions(user: User) -> int:
    """« Se déconnecter de tous les appareils »: revoke every session of the user."""
    result = db.session.execute(
        update(UserSession)
        .where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    db.session.commit()
    return result.rowcount
