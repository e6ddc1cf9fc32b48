"""API tokens of habilitations, and the API clients that may introspect them."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from datapass.extensions import db
from datapass.models.base import JSONType, UTCDateTime, utcnow

if TYPE_CHECKING:
    from datapass.models.authorization import Authorization
    from datapass.models.user import User

# Kinds of API clients: an API provider introspecting tokens, a developer's application
# (client credentials for /api/v1).
CLIENT_INTROSPECTION = "introspection"
CLIENT_DEVELOPER = "developer"
CLIENT_KINDS = (CLIENT_INTROSPECTION, CLIENT_DEVELOPER)


class ApiToken(db.Model):
    """A habilitation's token. Only its SHA-256 is kept (the value itself is encrypted until
    a member of the organisation reveals it once, then forgotten)."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    jti: Mapped[str] = mapped_column(String(36), unique=True)
    authorization_id: Mapped[int] = mapped_column(
        ForeignKey("authorizations.id", ondelete="CASCADE"), index=True
    )
    # Hot path of introspection: one lookup on this unique index.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    last_chars: Mapped[str] = mapped_column(String(8))
    scopes: Mapped[list[str]] = mapped_column(JSONType, default=list)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Encrypted value, until it is revealed (then cleared).
    sealed_value: Mapped[str | None] = mapped_column(Text)
    revealed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revealed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    replaced_by_id: Mapped[int | None] = mapped_column(ForeignKey("api_tokens.id"))

    authorization: Mapped[Authorization] = relationship(back_populates="tokens")
    revealed_by: Mapped[User | None] = relationship()

    def is_active(self, now: datetime) -> bool:
        return self.revoked_at is None and self.expires_at > now


class ApiClient(db.Model):
    """A machine client: an API provider introspecting tokens (or a developer application).

    An introspection client belongs to one definition (``definition_id``, a catalogue id): it
    sees that definition's tokens only. A developer application has none (its perimeter is
    its owner's)."""

    __tablename__ = "api_clients"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(32), default=CLIENT_INTROSPECTION)
    definition_id: Mapped[str | None] = mapped_column(String(80))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    scopes: Mapped[list[str]] = mapped_column(JSONType, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    owner: Mapped[User | None] = relationship()


class TokenReminder(db.Model):
    """An expiry reminder sent for a token at a threshold (makes ``tokens remind`` idempotent)."""

    __tablename__ = "token_reminders"
    __table_args__ = (UniqueConstraint("token_id", "days_before"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token_id: Mapped[int] = mapped_column(ForeignKey("api_tokens.id", ondelete="CASCADE"))
    days_before: Mapped[int]
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    extra: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)


class OAuthAccessToken(db.Model):
    """A developer application's bearer token for ``/api/v1`` (client credentials grant)."""

    __tablename__ = "oauth_access_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    api_client_id: Mapped[int] = mapped_column(
        ForeignKey("api_clients.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scope: Mapped[str] = mapped_column(String(255), default="")
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    client: Mapped[ApiClient] = relationship()
