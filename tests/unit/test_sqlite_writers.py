"""SQLite under concurrent writers (issue 16): writers wait for the lock, none fails."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import text

from datapass.database import may_write, reads, write_intent, writes


def increment(engine, *, after_read=None, before_write=None):
    """Read the counter, then write it + 1, in one transaction (read-then-write)."""
    with engine.begin() as connection:
        value = connection.execute(text("SELECT value FROM counter WHERE id = 1")).scalar_one()
        if after_read:
            after_read()
        if before_write:
            before_write()
        connection.execute(text("UPDATE counter SET value = :v WHERE id = 1"), {"v": value + 1})


def test_two_concurrent_read_then_write_transactions_both_succeed(engine):
    first_has_read = threading.Event()
    second_started = threading.Event()
    errors: list[BaseException] = []

    def first():
        # Holds its transaction open until the second one has started its own.
        increment(
            engine,
            after_read=first_has_read.set,
            before_write=lambda: second_started.wait(timeout=2),
        )

    def second():
        first_has_read.wait(timeout=5)
        second_started.set()
        increment(engine)

    def run(target):
        try:
            target()
        except BaseException as error:  # reported below, with the thread's error
            errors.append(error)

    threads = [threading.Thread(target=run, args=(t,)) for t in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    with engine.connect() as connection:
        # No lost update either: the second writer read after the first one committed.
        assert connection.execute(text("SELECT value FROM counter")).scalar_one() == 2


def test_wal_mode_and_busy_timeout(engine):
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar_one() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar_one() >= 5000


@pytest.mark.parametrize(
    ("method", "expected"), [("GET", False), ("HEAD", False), ("POST", True), ("DELETE", True)]
)
def test_only_requests_that_may_write_take_the_write_lock(app, method, expected):
    with app.test_request_context(method=method):
        assert may_write() is expected
        with write_intent():
            assert may_write() is True
    with app.app_context():
        assert may_write() is True  # CLI, worker
        with write_intent(False):
            assert may_write() is False  # the worker's slow deliveries


def test_views_may_declare_that_they_read_or_write(app, db):
    seen = []

    def probe():
        seen.append(may_write())

    with app.test_request_context(method="POST"):
        reads(probe)()  # an introspection: a POST that only reads
    with app.test_request_context(method="GET"):
        writes(probe)()  # the sign-in callback: a GET that writes
    assert seen == [False, True]
