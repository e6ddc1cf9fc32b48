"""What instructors keep: message templates, notification settings, followed requests."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from datapass.extensions import db
from datapass.models.base import UTCDateTime, utcnow

# The decisions a template can be picked for.
TEMPLATE_KINDS = ("approve", "request_changes", "refuse", "revoke", "message")
TEMPLATE_KIND_LABELS = {
    "approve": "Validation",
    "request_changes": "Demande de modifications",
    "refuse": "Refus",
    "revoke": "Révocation",
    "message": "Message",
}


class MessageTemplate(db.Model):
    """A reusable text for instructors; ``%{demande_url}``-style variables are filled in."""

    __tablename__ = "message_templates"
    __table_args__ = (
        UniqueConstraint("definition_id", "title"),
        CheckConstraint(
            "kind IN ({})".format(", ".join(f"'{kind}'" for kind in TEMPLATE_KINDS)),
            name="kind",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    definition_id: Mapped[str] = mapped_column(String(80), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(255))
    content: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class InstructorNotificationSetting(db.Model):
    """Which events of a definition notify a reporter or instructor by email."""

    __tablename__ = "instructor_notification_settings"
    __table_args__ = (UniqueConstraint("user_id", "definition_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    definition_id: Mapped[str] = mapped_column(String(80), index=True)
    notify_submissions: Mapped[bool] = mapped_column(default=True)
    notify_messages: Mapped[bool] = mapped_column(default=True)
    # The weekly digest of the requests due within 7 days (CRPA deadline).
    notify_deadline_digest: Mapped[bool] = mapped_column(default=True, server_default="1")


class RequestFollow(db.Model):
    """A request an instructor follows (« Marquer comme suivie »): its staff notifications
    reach them whatever their settings on its definition."""

    __tablename__ = "request_follows"
    __table_args__ = (UniqueConstraint("user_id", "authorization_request_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    authorization_request_id: Mapped[int] = mapped_column(
        ForeignKey("authorization_requests.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
