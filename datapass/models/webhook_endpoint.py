"""Webhooks of API providers: where DataPass posts each event of a definition's requests."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from datapass.extensions import db
from datapass.models.base import JSONType, UTCDateTime, utcnow

if TYPE_CHECKING:
    from datapass.models.user import User

# The events a webhook may listen to (timeline event names), with their label in the form.
# To add one: a workflow event of that name, its label here, docs/webhooks.md. ``update`` is
# debounced (services/request_updates.py); ``create_by_api`` / ``update_by_api`` come from the
# API's POST and PATCH (services/authorization_requests.py).
EVENT_LABELS = {
    "create": "Création (create)",
    "update": "Mise à jour (update)",
    "submit": "Soumission (submit)",
    "approve": "Validation (approve)",
    "refuse": "Refus (refuse)",
    "request_changes": "Demande de modifications (request_changes)",
    "revoke": "Révocation (revoke)",
    "archive": "Suppression (archive)",
    "reopen": "Réouverture (reopen)",
    "cancel_reopening": "Annulation de réouverture (cancel_reopening)",
    "transfer": "Transfert (transfer)",
    "create_by_api": "Création par l’API (create_by_api)",
    "update_by_api": "Mise à jour par l’API (update_by_api)",
    "update_contacts": "Mise à jour des contacts (update_contacts)",
}
WEBHOOK_EVENTS = tuple(EVENT_LABELS)


class Webhook(db.Model):
    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(primary_key=True)
    definition_id: Mapped[str] = mapped_column(String(80), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    events: Mapped[list[str]] = mapped_column(JSONType, default=list)
    # 32 random bytes as hex, encrypted with a key derived from SECRET_KEY.
    sealed_secret: Mapped[str] = mapped_column(Text)
    validated: Mapped[bool] = mapped_column(default=False)  # the last test ping succeeded
    enabled: Mapped[bool] = mapped_column(default=False)
    consecutive_failures: Mapped[int] = mapped_column(default=0)
    first_failure_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    disabled_reason: Mapped[str | None] = mapped_column(String(255))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    created_by: Mapped[User | None] = relationship()


class WebhookAttempt(db.Model):
    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    webhook_id: Mapped[int] = mapped_column(
        ForeignKey("webhooks.id", ondelete="CASCADE"), index=True
    )
    authorization_request_id: Mapped[int | None] = mapped_column(
        ForeignKey("authorization_requests.id", ondelete="SET NULL")
    )
    event: Mapped[str] = mapped_column(String(40))
    delivery_id: Mapped[str] = mapped_column(String(80))
    body: Mapped[str] = mapped_column(Text)
    status_code: Mapped[int | None]
    duration_ms: Mapped[int | None]
    response_excerpt: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    success: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
