"""Side effects through the outbox: ``enqueue`` in the caller's transaction, a worker delivers.

    outbox.enqueue("email", {...})             # no commit: part of the caller's transaction

    @outbox.handler("email")
    def send(job: OutboxJob) -> None: ...      # raise to retry later

The worker (``flask jobs work``) claims due rows (``FOR UPDATE SKIP LOCKED`` on PostgreSQL,
so several workers share the table; one worker on SQLite), runs their handler, and on
failure retries with exponential backoff and jitter, up to ``max_attempts``, then marks
the row *dead* (admins see and replay them at ``/admin/taches``). A claimed row is leased:
if its worker dies, the row is claimed again once the lease has expired.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select

from datapass.extensions import db
from datapass.models.base import utcnow
from datapass.models.outbox import OutboxJob

logger = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)
BASE_DELAY_SECONDS = 30
MAX_DELAY_SECONDS = 6 * 3600
HANDLERS: dict[str, Callable[[OutboxJob], None]] = {}


def handler(kind: str):
    """Register the delivery function of a kind of job."""

    def register(function: Callable[[OutboxJob], None]):
        HANDLERS[kind] = function
        return function

    return register


def enqueue(
    kind: str,
    payload: dict[str, Any],
    *,
    key: str | None = None,
    max_attempts: int = 8,
    available_at: datetime | None = None,
) -> OutboxJob:
    """Add a job to the current transaction (no commit): it exists only if the caller commits."""
    job = OutboxJob(
        kind=kind,
        payload=payload,
        idempotency_key=key or f"{kind}-{uuid.uuid4().hex}",
        max_attempts=max_attempts,
        available_at=available_at or utcnow(),
    )
    db.session.add(job)
    return job


def backoff(attempts: int) -> timedelta:
    """Exponential backoff with full jitter: up to 30 s, 60 s, 2 min… capped at 6 h."""
    ceiling = min(MAX_DELAY_SECONDS, BASE_DELAY_SECONDS * 2 ** max(attempts - 1, 0))
    return timedelta(seconds=random.uniform(ceiling / 2, ceiling))  # noqa: S311 (not crypto)


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def claim(worker: str, *, limit: int = 10, now: datetime | None = None) -> list[int]:
    """Lease up to ``limit`` due jobs to ``worker``; commit; return their ids."""
    now = now or utcnow()
    query = (
        select(OutboxJob)
        .where(
            OutboxJob.state == "pending",
            OutboxJob.available_at <= now,
            or_(OutboxJob.locked_at.is_(None), OutboxJob.locked_at < now - LEASE),
        )
        .order_by(OutboxJob.available_at, OutboxJob.id)
        .limit(limit)
    )
    if db.engine.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    jobs = list(db.session.scalars(query))
    for job in jobs:
        job.locked_at = now
        job.locked_by = worker
    ids = [job.id for job in jobs]
    db.session.commit()
    return ids


def run_job(job_id: int, worker: str, *, now: datetime | None = None) -> str:
    """Deliver one claimed job; record the outcome; commit. Returns the job's new state."""
    job = db.session.get(OutboxJob, job_id)
    if job is None or job.state != "pending" or job.locked_by != worker:
        return "skipped"
    deliver = HANDLERS.get(job.kind)
    try:
        if deliver is None:
            raise LookupError(f"no handler for {job.kind!r}")
        deliver(job)
    except Exception as error:  # any failure is retried, then dead
        db.session.rollback()
        job = db.session.get(OutboxJob, job_id)
        job.attempts += 1
        job.last_error = f"{type(error).__name__}: {error}"[:2000]
        job.locked_at = job.locked_by = None
        if job.attempts >= job.max_attempts:
            job.state = "dead"
            logger.error("outbox job %s (%s) is dead: %s", job.id, job.kind, job.last_error)
        else:
            job.available_at = (now or utcnow()) + backoff(job.attempts)
            logger.warning("outbox job %s (%s) failed, attempt %s", job.id, job.kind, job.attempts)
    else:
        job.attempts += 1
        job.state = "done"
        job.done_at = utcnow()
        job.locked_at = None
        job.last_error = None
    db.session.commit()
    return job.state


def work_once(worker: str | None = None, *, limit: int = 10, now: datetime | None = None) -> int:
    """Claim and deliver one batch; return how many jobs were run."""
    worker = worker or worker_id()
    ids = claim(worker, limit=limit, now=now)
    for job_id in ids:
        run_job(job_id, worker, now=now)
    return len(ids)


def drain(*, now: datetime | None = None, max_rounds: int = 100) -> int:
    """Deliver every due job now (tests, scripts); return how many were run."""
    total = 0
    for _ in range(max_rounds):
        ran = work_once(now=now)
        total += ran
        if not ran:
            break
    return total


def replay(job: OutboxJob) -> None:
    """An admin sends a dead (or failed) job again: a fresh set of attempts, due now."""
    job.state = "pending"
    job.attempts = 0
    job.available_at = utcnow()
    job.locked_at = job.locked_by = None
    db.session.commit()
