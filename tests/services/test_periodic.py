"""Periodic tasks run by the worker: their hour, once per period even with several workers."""

from __future__ import annotations

import multiprocessing
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from datapass import create_app, outbox, periodic
from datapass.extensions import db as _db
from datapass.models import OutboxJob, PeriodicTaskRun, UserSession
from datapass.models.outbox import JOB_DEAD, JOB_DONE
from datapass.services import housekeeping
from tests.factories import UserFactory
from tests.test_migrations import empty_database_url  # noqa: F401  (fixture)

PARIS = ZoneInfo("Europe/Paris")


def paris(day: int, hour: int, minute: int = 0) -> datetime:
    """A time of December 2026 in Paris (UTC+1), as the worker's aware UTC clock."""
    return datetime(2026, 12, day, hour, minute, tzinfo=PARIS).astimezone(UTC)


def counting_task(runs: list, *, every=periodic.DAILY, fail=False) -> periodic.Task:
    def run(now):
        runs.append(now)
        if fail:
            raise RuntimeError("boom")
        return 1

    return periodic.Task("counting", run, "Compte", hour=6, every=every, weekday=0)


def test_the_period_starts_at_the_last_scheduled_hour_reached():
    task = counting_task([])
    assert task.period_start(paris(3, 5, 59), PARIS) == datetime(2026, 12, 2, 6, tzinfo=PARIS)
    assert task.period_start(paris(3, 6), PARIS) == datetime(2026, 12, 3, 6, tzinfo=PARIS)
    assert task.next_start(paris(3, 7), PARIS) == datetime(2026, 12, 4, 6, tzinfo=PARIS)
    weekly = counting_task([], every=periodic.WEEKLY)  # Mondays; 7 December 2026 is one
    assert weekly.period_start(paris(9, 12), PARIS) == datetime(2026, 12, 7, 6, tzinfo=PARIS)
    assert weekly.period_start(paris(7, 5), PARIS) == datetime(2026, 11, 30, 6, tzinfo=PARIS)
    assert weekly.schedule == "chaque lundi à 06 h"


def test_a_task_runs_once_per_period_at_its_hour(app, db, monkeypatch):
    runs: list = []
    monkeypatch.setitem(app.extensions, "periodic", {"counting": counting_task(runs)})
    for clock in (paris(3, 7), paris(3, 8), paris(4, 5, 59)):  # period of the 3rd, 06 h
        periodic.run_due("w1", now=clock)
        periodic.run_due("w2", now=clock)
    assert runs == [paris(3, 7)]
    assert periodic.run_due("w2", now=paris(4, 6)) == {"counting": 1}
    assert runs == [paris(3, 7), paris(4, 6)]
    row = db.session.get(PeriodicTaskRun, "counting")
    assert (row.last_status, row.last_result, row.locked_by) == ("ok", "1", None)
    assert row.last_period == datetime(2026, 12, 4, 6, tzinfo=PARIS).isoformat()


def test_a_failed_task_is_retried_after_the_lease_within_its_period(app, db, monkeypatch):
    runs: list = []
    monkeypatch.setitem(app.extensions, "periodic", {"counting": counting_task(runs, fail=True)})
    assert periodic.run_due("w1", now=paris(3, 7)) == {"counting": None}
    assert periodic.run_due("w1", now=paris(3, 7, 5)) == {}  # not before the lease expired
    row = db.session.get(PeriodicTaskRun, "counting")
    assert (row.last_status, row.last_period) == ("failed", None)
    assert "boom" in row.last_result
    periodic.run_due("w1", now=paris(3, 7) + periodic.LEASE + timedelta(seconds=1))
    assert len(runs) == 2


def test_a_dead_workers_lease_expires(app, db, monkeypatch):
    runs: list = []
    monkeypatch.setitem(app.extensions, "periodic", {"counting": counting_task(runs)})
    periodic._ensure_rows(["counting"])
    task = periodic.tasks()["counting"]
    assert periodic.claim(task, "dead-worker", paris(3, 7), period="p")  # then it died
    assert periodic.run_due("w2", now=paris(3, 7, 1)) == {}
    assert periodic.run_due("w2", now=paris(3, 7) + periodic.LEASE + timedelta(seconds=1))
    assert len(runs) == 1


def test_the_worker_runs_the_token_reminders_and_the_cleanup(app, db):
    assert {"token_reminders", "cleanup"} <= set(periodic.tasks())
    assert app.config["TOKEN_REMINDERS_HOUR"] == 6 and app.config["CLEANUP_HOUR"] == 3
    ran = periodic.run_due("w1", now=paris(3, 7))
    assert {"token_reminders", "cleanup"} <= set(ran)
    assert periodic.run_due("w1", now=paris(3, 8)) == {}


def test_cleanup_deletes_expired_sessions_and_old_delivered_jobs_only(app, db):
    now = datetime(2026, 12, 3, tzinfo=UTC)
    user = UserFactory()
    for key, expires, revoked in (
        ("a" * 64, now - timedelta(hours=1), None),
        ("b" * 64, now + timedelta(hours=1), now - timedelta(minutes=1)),
        ("c" * 64, now + timedelta(hours=1), None),
    ):
        db.session.add(UserSession(key_hash=key, user=user, expires_at=expires, revoked_at=revoked))
    old, recent, dead = (outbox.enqueue("email", {}) for _ in range(3))
    old.state, old.done_at = JOB_DONE, now - timedelta(days=31)
    recent.state, recent.done_at = JOB_DONE, now - timedelta(days=29)
    dead.state = JOB_DEAD
    db.session.commit()
    assert housekeeping.clean_up(now) == 3
    assert db.session.scalars(select(UserSession.key_hash)).all() == ["c" * 64]
    assert set(db.session.scalars(select(OutboxJob.id))) == {recent.id, dead.id}


def test_commands_list_the_tasks_and_run_one_by_hand(app, db, monkeypatch):
    runs: list = []
    monkeypatch.setitem(app.extensions, "periodic", {"counting": counting_task(runs)})
    runner = app.test_cli_runner()
    listed = runner.invoke(args=["jobs", "periodic"])
    assert listed.exit_code == 0
    assert "counting: Compte, chaque jour à 06 h; last run never; next run" in listed.output
    ran = runner.invoke(args=["jobs", "run-periodic", "counting"])
    assert (ran.exit_code, ran.output) == (0, "counting: 1 done.\n")
    assert len(runs) == 1
    assert "last run" in runner.invoke(args=["jobs", "periodic"]).output
    assert db.session.get(PeriodicTaskRun, "counting").last_period is None  # period kept due
    unknown = runner.invoke(args=["jobs", "run-periodic", "nope"])
    assert unknown.exit_code == 2 and "known: counting" in unknown.output


# ---------------------------------------------------------------- several worker processes

TICKS = [paris(3, 5), paris(3, 5, 30), paris(3, 6), paris(3, 6, 1), paris(3, 23), paris(4, 6, 2)]


def _tick(now):
    """The test's task: records which period it ran for, slowly (the other worker tries)."""
    outbox.enqueue("tick", {"at": now.isoformat()})
    time.sleep(0.2)
    _db.session.commit()
    return 1


def _worker(url: str, instance: str, barrier) -> None:
    app = create_app(
        {"TESTING": True, "SQLALCHEMY_DATABASE_URI": url},
        environ={"DATAPASS_ENV": "test", "INSTANCE_DIR": instance},
    )
    app.extensions["periodic"] = {"tick": periodic.Task("tick", _tick, "Tic", hour=6)}
    worker = outbox.worker_id()
    with app.app_context():
        for clock in TICKS:
            barrier.wait(timeout=60)
            periodic.run_due(worker, now=clock)
        _db.engine.dispose()


def test_two_worker_processes_run_each_task_once_per_period(empty_database_url, tmp_path):  # noqa: F811
    app = create_app(
        {"TESTING": True, "SQLALCHEMY_DATABASE_URI": empty_database_url},
        environ={"DATAPASS_ENV": "test", "INSTANCE_DIR": str(tmp_path)},
    )
    with app.app_context():
        _db.create_all()
        _db.engine.dispose()
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(2)
    workers = [
        context.Process(target=_worker, args=(empty_database_url, str(tmp_path), barrier))
        for _ in range(2)
    ]
    for process in workers:
        process.start()
    for process in workers:
        process.join(timeout=120)
    assert [process.exitcode for process in workers] == [0, 0]
    with app.app_context():
        ticks = [job.payload["at"] for job in _db.session.scalars(select(OutboxJob))]
        _db.session.remove()
        _db.engine.dispose()
    # 5 h: the period of the day before (first run); 6 h: the 3rd's; the 4th's at 6 h 02.
    assert sorted(ticks) == [clock.isoformat() for clock in (TICKS[0], TICKS[2], TICKS[5])]


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"PERIODIC_TIMEZONE": "Mars/Olympus"}, "PERIODIC_TIMEZONE"),
        ({"CLEANUP_HOUR": "24"}, "CLEANUP_HOUR must be an hour"),
        ({"TOKEN_REMINDERS_HOUR": "-1"}, "TOKEN_REMINDERS_HOUR must be an hour"),
    ],
)
def test_bad_schedule_settings_are_refused(environ, message):
    from config import ConfigurationError, load_config

    with pytest.raises(ConfigurationError, match=message):
        load_config(environ)
