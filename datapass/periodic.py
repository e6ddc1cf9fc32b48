"""Periodic tasks, run by the outbox worker (``flask jobs work``): no crontab.

Each task runs at its configured hour (``PERIODIC_TIMEZONE``, Europe/Paris by default), once a
day or once a week. Its *period* starts at the last scheduled time reached; the task runs
**once per period** whatever the number of workers and machines: each task has a lease row
(``periodic_tasks``) that a worker claims before running it, with ``FOR UPDATE SKIP LOCKED``
on PostgreSQL (a conditional ``UPDATE`` on SQLite), and marks done for the period after.

    periodic.init_app(app, tasks=[Task("token_reminders", tokens.send_reminders, …)])
    periodic.run_due(worker)                   # each poll of the worker
    periodic.run_now("token_reminders")        # flask jobs run-periodic token_reminders

A task is a function ``run(now) -> int`` (how many things it did) that owns its transaction.
A worker that dies while running frees the lease after ``LEASE``; a task that fails is retried
once the lease has expired, still once for its period.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import Flask, current_app
from sqlalchemy import or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from datapass.extensions import db
from datapass.models.base import utcnow
from datapass.models.periodic_task import PeriodicTaskRun

logger = logging.getLogger(__name__)

LEASE = timedelta(minutes=10)
DAILY = "daily"
WEEKLY = "weekly"
WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")


@dataclass(frozen=True)
class Task:
    """A periodic task: ``run(now)`` at ``hour`` every day (or every week on ``weekday``)."""

    name: str
    run: Callable[[datetime], int]
    description: str
    hour: int
    every: str = DAILY
    weekday: int = 0  # Monday, for weekly tasks

    def period_start(self, now: datetime, zone: ZoneInfo) -> datetime:
        """The last scheduled time reached at ``now`` (aware, in ``zone``)."""
        local = now.astimezone(zone)
        start = local.replace(hour=self.hour, minute=0, second=0, microsecond=0)
        if self.every == WEEKLY:
            start -= timedelta(days=(local.weekday() - self.weekday) % 7)
            if start > local:
                start -= timedelta(days=7)
        elif start > local:
            start -= timedelta(days=1)
        return start

    def next_start(self, now: datetime, zone: ZoneInfo) -> datetime:
        step = timedelta(days=7 if self.every == WEEKLY else 1)
        return (self.period_start(now, zone) + step).replace(hour=self.hour)

    @property
    def schedule(self) -> str:
        if self.every == WEEKLY:
            return f"chaque {WEEKDAYS[self.weekday]} à {self.hour:02d} h"
        return f"chaque jour à {self.hour:02d} h"


def init_app(app: Flask, *, tasks: Iterable[Task]) -> None:
    """Name the app's periodic tasks (``datapass.register_side_effects``)."""
    app.extensions["periodic"] = {task.name: task for task in tasks}


def tasks() -> dict[str, Task]:
    return current_app.extensions.get("periodic", {})


def _zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["PERIODIC_TIMEZONE"])


def _ensure_rows(names: Iterable[str]) -> None:
    """Create the lease rows missing (concurrently safe: a row another worker made is kept)."""
    insert = pg_insert if db.engine.dialect.name == "postgresql" else sqlite_insert
    for name in names:
        db.session.execute(insert(PeriodicTaskRun).values(name=name).on_conflict_do_nothing())
    db.session.commit()


def claim(task: Task, worker: str, now: datetime, *, period: str | None) -> bool:
    """Lease ``task``'s row to ``worker`` if it is free (and, given a period, not done for it)."""
    conditions = [
        PeriodicTaskRun.name == task.name,
        or_(PeriodicTaskRun.locked_at.is_(None), PeriodicTaskRun.locked_at < now - LEASE),
    ]
    if period is not None:
        conditions.append(
            or_(PeriodicTaskRun.last_period.is_(None), PeriodicTaskRun.last_period != period)
        )
    if db.engine.dialect.name == "postgresql":
        row = db.session.scalars(
            select(PeriodicTaskRun).where(*conditions).with_for_update(skip_locked=True)
        ).first()
        if row is not None:
            row.locked_at, row.locked_by = now, worker
        claimed = row is not None
    else:
        result = db.session.execute(
            update(PeriodicTaskRun)
            .where(*conditions)
            .values(locked_at=now, locked_by=worker)
            .execution_options(synchronize_session=False)
        )
        claimed = result.rowcount == 1
    db.session.commit()
    return claimed


def _run(task: Task, worker: str, now: datetime, *, period: str | None) -> int | None:
    """Run a claimed task; record the outcome on its row. None when it failed."""
    try:
        count = task.run(now)
    except Exception as error:  # recorded, retried after the lease
        db.session.rollback()
        logger.exception("periodic task %s failed", task.name)
        status, result, count = "failed", f"{type(error).__name__}: {error}"[:2000], None
    else:
        status, result = "ok", str(count)
    row = db.session.get(PeriodicTaskRun, task.name, populate_existing=True)
    if row.locked_by == worker:
        row.last_run_at, row.last_status, row.last_result = now, status, result
        row.locked_by = None
        if status == "ok":
            row.locked_at = None
            if period is not None:
                row.last_period = period
    db.session.commit()
    return count


def run_due(worker: str, *, now: datetime | None = None) -> dict[str, int | None]:
    """Run each task whose period has come and that no worker ran for it; {name: count}."""
    now = now or utcnow()
    registered = tasks()
    if not registered:
        return {}
    zone = _zone()
    done = dict(
        db.session.execute(
            select(PeriodicTaskRun.name, PeriodicTaskRun.last_period).where(
                PeriodicTaskRun.name.in_(registered)
            )
        ).all()
    )
    db.session.commit()  # a claim starts its own transaction (SQLite: no stale snapshot)
    if len(done) < len(registered):
        _ensure_rows(set(registered) - set(done))
    ran: dict[str, int | None] = {}
    for task in registered.values():
        period = task.period_start(now, zone).isoformat()
        if done.get(task.name) == period:
            continue  # cheap check first; the claim decides
        if claim(task, worker, now, period=period):
            ran[task.name] = _run(task, worker, now, period=period)
    return ran


def run_now(name: str, worker: str, *, now: datetime | None = None) -> int | None:
    """Run a task by hand now (its period is left as it was). LookupError if unknown,
    RuntimeError if a worker is running it."""
    task = tasks().get(name)
    if task is None:
        raise LookupError(name)
    now = now or utcnow()
    _ensure_rows([name])
    if not claim(task, worker, now, period=None):
        raise RuntimeError(f"{name} is running on another worker")
    return _run(task, worker, now, period=None)


@dataclass(frozen=True)
class Status:
    task: Task
    last_run_at: datetime | None
    last_status: str | None
    last_result: str | None
    next_run_at: datetime


def statuses(*, now: datetime | None = None) -> list[Status]:
    """Each task with its last run and its next one (``flask jobs periodic``)."""
    now = now or utcnow()
    zone = _zone()
    rows = {row.name: row for row in db.session.scalars(select(PeriodicTaskRun))}
    result = []
    for task in tasks().values():
        row = rows.get(task.name)
        period = task.period_start(now, zone)
        due_now = row is None or row.last_period != period.isoformat()
        result.append(
            Status(
                task,
                row.last_run_at if row else None,
                row.last_status if row else None,
                row.last_result if row else None,
                now.astimezone(zone) if due_now else task.next_start(now, zone),
            )
        )
    return result
