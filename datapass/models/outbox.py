"""The transactional outbox: side effects (emails, webhooks) as rows of the same transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from datapass.extensions import db
from datapass.models.base import JSONType, UTCDateTime, utcnow

JOB_PENDING = "pending"  # waiting for (another) attempt
JOB_DONE = "done"  # delivered
JOB_DEAD = "dead"  # out of attempts: an admin may replay it
JOB_STATES = (JOB_PENDING, JOB_DONE, JOB_DEAD)


class OutboxJob(db.Model):
    __tablename__ = "outbox_jobs"
    __table_args__ = (
        CheckConstraint("state IN ('pending', 'done', 'dead')", name="state"),
        # The worker's claim: pending rows whose time has come, oldest first.
        Index("ix_outbox_jobs_claim", "state", "available_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    # Sent with each delivery (Message-ID, X-DataPass-Delivery) so receivers can deduplicate.
    idempotency_key: Mapped[str] = mapped_column(String(80), unique=True)
    state: Mapped[str] = mapped_column(String(16), default=JOB_PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    max_attempts: Mapped[int] = mapped_column(default=8)
    available_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # A claim is a lease: a worker that dies leaves the row to be claimed again later.
    locked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    locked_by: Mapped[str | None] = mapped_column(String(80))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    def __repr__(self) -> str:
        return f"<OutboxJob {self.id} {self.kind} {self.state}>"
