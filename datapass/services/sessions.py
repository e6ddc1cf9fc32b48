"""Server-side sessions behind the signed session cookie."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from functools import cache

from flask import current_app
from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import joinedload

from datapass.extensions import db
from datapass.models import User, UserSession
from datapass.models.base import utcnow
from datapass.models.user_session import hash_session_key


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


@cache
def _session_statement():
    """Every page's first query, built once (its compiled form is then cached by SQLAlchemy
    too): the session row by its primary key, its user and the user's roles joined."""
    return (
        select(UserSession)
        .options(joinedload(UserSession.user).joinedload(User.role_grants))
        .where(UserSession.key_hash == bindparam("key_hash"))
    )


def load_session(key: str | None) -> UserSession | None:
    """The session row, its user and the user's roles in one query (by the primary key's
    index), or None."""
    if not key:
        return None
    return db.session.scalar(_session_statement(), {"key_hash": hash_session_key(key)})


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
