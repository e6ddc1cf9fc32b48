"""Side effects through the outbox: ``enqueue`` in the caller's transaction, a worker delivers.

    outbox.enqueue("email", {...})             # no commit: part of the caller's transaction

What an application does on its own is named once, by ``create_app``
(``datapass.register_side_effects``), with ``init_app``:

    outbox.init_app(app, event_subscribers=[emails.emails_for_event, ...],
                    handlers={"email": emails.deliver, ...})

Each *event subscriber* is called with every new ``AuthorizationRequestEvent``, right after
the flush that inserted it and in the same transaction, so that it can ``enqueue`` jobs: a
change that is rolled back sends nothing. Each *handler* delivers the jobs of one kind
(raise to retry later).

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
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, current_app, has_app_context
from sqlalchemy import event as sa_event
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from datapass.database import write_intent, write_transaction
from datapass.extensions import db
from datapass.models import AuthorizationRequestEvent
from datapass.models.base import utcnow
from datapass.models.outbox import JOB_DEAD, JOB_DONE, JOB_PENDING, OutboxJob

logger = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)
BASE_DELAY_SECONDS = 30
MAX_DELAY_SECONDS = 6 * 3600
EventSubscriber = Callable[[AuthorizationRequestEvent], None]
Handler = Callable[[OutboxJob], None]
_NEW_EVENTS = "datapass.outbox.new_events"


@dataclass(frozen=True)
class SideEffects:
    """An application's event subscribers and job handlers (``app.extensions["outbox"]``)."""

    event_subscribers: tuple[EventSubscriber, ...] = ()
    handlers: Mapping[str, Handler] = field(default_factory=dict)


def init_app(
    app: Flask,
    *,
    event_subscribers: Iterable[EventSubscriber] = (),
    handlers: Mapping[str, Handler] | None = None,
) -> None:
    """Name the app's side effects; install the session listeners (once per process)."""
    app.extensions["outbox"] = SideEffects(tuple(event_subscribers), dict(handlers or {}))
    if not sa_event.contains(Session, "after_flush", _collect_new_events):
        sa_event.listen(Session, "after_flush", _collect_new_events)
        sa_event.listen(Session, "after_flush_postexec", _notify_subscribers)
        sa_event.listen(Session, "after_soft_rollback", _forget_new_events)


def _side_effects() -> SideEffects | None:
    """The current app's side effects; None outside an application (scripts, tools)."""
    return current_app.extensions.get("outbox") if has_app_context() else None


def _collect_new_events(session: Session, flush_context) -> None:
    new = [obj for obj in session.new if isinstance(obj, AuthorizationRequestEvent)]
    if new:
        session.info.setdefault(_NEW_EVENTS, []).extend(new)


def _notify_subscribers(session: Session, flush_context) -> None:
    events = session.info.pop(_NEW_EVENTS, None)
    side_effects = _side_effects()
    if not events or side_effects is None:
        return
    for subscriber in side_effects.event_subscribers:
        for event in events:
            subscriber(event)


def _forget_new_events(session: Session, previous_transaction) -> None:
    session.info.pop(_NEW_EVENTS, None)


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
            OutboxJob.state == JOB_PENDING,
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
    """Deliver one claimed job; record the outcome; commit. Returns the job's new state.

    The delivery waits for another server (SMTP, a webhook, clamd): on SQLite its transaction
    does not take the write lock when it begins (``database.write_intent``), which would stop
    every other writer meanwhile."""
    with write_intent(False):
        return _run_job(job_id, worker, now=now)


def _run_job(job_id: int, worker: str, *, now: datetime | None) -> str:
    job = db.session.get(OutboxJob, job_id)
    if job is None or job.state != JOB_PENDING or job.locked_by != worker:
        return "skipped"
    side_effects = _side_effects()
    deliver = side_effects.handlers.get(job.kind) if side_effects else None
    try:
        if deliver is None:
            raise LookupError(f"no handler for {job.kind!r}")
        deliver(job)
    except Exception as error:  # any failure is retried, then dead
        db.session.rollback()
        failure = f"{type(error).__name__}: {error}"[:2000]
    else:
        failure = None
    # The outcome is written in a transaction that takes the write lock (SQLite): the one
    # the delivery read in did not, and another connection may have written since.
    with write_transaction():
        job = db.session.get(OutboxJob, job_id)
        job.attempts += 1
        job.locked_at = None
        job.last_error = failure
        if failure is None:
            job.state = JOB_DONE
            job.done_at = utcnow()
        elif job.attempts >= job.max_attempts:
            job.locked_by = None
            job.state = JOB_DEAD
            logger.error("outbox job %s (%s) is dead: %s", job.id, job.kind, failure)
        else:
            job.locked_by = None
            job.available_at = (now or utcnow()) + backoff(job.attempts)
            logger.warning("outbox job %s (%s) failed, attempt %s", job.id, job.kind, job.attempts)
        state = job.state
    return state


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
    job.state = JOB_PENDING
    job.attempts = 0
    job.available_at = utcnow()
    job.locked_at = job.locked_by = None
    db.session.commit()
