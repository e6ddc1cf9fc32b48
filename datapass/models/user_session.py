"""Server-side sessions: a signed cookie carries a random id whose hash is stored here.

This lets a user end every session at once ("Se déconnecter de tous les appareils"),
enforces the absolute lifetime whatever the cookie says, and lets admins ban users.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from datapass.crypto import digest
from datapass.extensions import db
from datapass.models.base import UTCDateTime, utcnow

if TYPE_CHECKING:
    from datapass.models.user import User


def hash_session_key(key: str) -> str:
    return digest(key)


class UserSession(db.Model):
    __tablename__ = "user_sessions"

    # SHA-256 of the random key kept in the session cookie; the key itself is never stored.
    key_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # « Se connecter en tant que »: an administrator's session acting as another user, for
    # a reason, until ``impersonation_expires_at`` (services/impersonation.py).
    impersonated_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    impersonation_reason: Mapped[str | None] = mapped_column(String(500))
    impersonation_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    impersonated_user: Mapped[User | None] = relationship(foreign_keys=[impersonated_user_id])

    def is_active(self, now: datetime) -> bool:
        return self.revoked_at is None and now < self.expires_at
