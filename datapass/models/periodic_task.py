"""One lease row per periodic task: which period it last ran for, and who is running it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from datapass.extensions import db
from datapass.models.base import UTCDateTime


class PeriodicTaskRun(db.Model):
    __tablename__ = "periodic_tasks"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    # The period (its scheduled start, ISO) the task last completed: once per period.
    last_period: Mapped[str | None] = mapped_column(String(40))
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_status: Mapped[str | None] = mapped_column(String(16))
    last_result: Mapped[str | None] = mapped_column(Text)
    # A claim is a lease, as for outbox jobs: a worker that dies frees it when it expires; a
    # failed run keeps ``locked_at`` (without ``locked_by``) so it is retried after the lease.
    locked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    locked_by: Mapped[str | None] = mapped_column(String(80))

    def __repr__(self) -> str:
        return f"<PeriodicTaskRun {self.name} {self.last_period}>"
