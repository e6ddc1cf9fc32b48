"""A request that only reads runs its Core reads on one connection of the request, kept aside
between requests (``database.read_connection``, issue 16): no ORM session, no pool
check-out per request. These tests use the app's engine itself (no ``db`` fixture: with it,
the reads run on the test's connection) and write nothing."""

from __future__ import annotations

import os
import warnings

import pytest
from sqlalchemy import event, literal, select, text

from datapass.database import CONNECTIONS, first_row, read_connection, write_intent
from datapass.extensions import db as _db
from datapass.views.auth import SESSION_KEY
from tests.support.statements import Statements

ONE = select(literal(1).label("one"))


@pytest.fixture
def engine(app):
    with app.app_context():
        yield _db.engine


def checkouts(engine) -> list:
    seen = []
    event.listen(engine, "checkout", lambda *args: seen.append(1))
    return seen


def read(app, path: str = "/"):
    """One request that only reads, running one read; the connection it ran on."""
    with app.test_request_context(path):
        connection = read_connection()
        assert connection.execute(ONE).scalar() == 1
        assert read_connection() is connection  # one connection for the request's reads
        return connection


def test_the_connection_is_kept_aside_between_requests(app, engine):
    kept = read(app)
    level = engine.pool.checkedout()
    taken = checkouts(engine)
    with Statements(engine) as statements:
        for _ in range(3):
            assert read(app) is kept
    assert taken == []  # no pool check-out, reset and check-in per request
    assert engine.pool.checkedout() == level
    assert statements.sql == [str(ONE.compile(engine))] * 3  # no BEGIN, no ROLLBACK


def test_a_signed_in_page_reads_its_session_on_it_also_on_a_404(app, engine):
    read(app)
    level = engine.pool.checkedout()
    client = app.test_client()
    with client.session_transaction() as session:
        session[SESSION_KEY] = "a-session-that-does-not-exist"
        session["_user_id"] = "1"
    taken = checkouts(engine)
    with Statements(engine) as statements:
        assert client.get("/nulle-part").status_code == 404
        assert client.get("/").status_code == 200
    assert len(statements.on("user_sessions")) == 2  # the page's layout asked who is there
    assert taken == []
    assert engine.pool.checkedout() == level


def test_the_next_request_sees_what_was_committed_meanwhile(app, engine):
    """No row nor snapshot is kept with the connection: a sign-out, a ban, a role revoked
    between two requests shows in the second."""
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE readconn_probe (value INTEGER)"))
        connection.execute(text("INSERT INTO readconn_probe VALUES (0)"))

    def value():
        with app.test_request_context("/"):
            return read_connection().execute(text("SELECT value FROM readconn_probe")).scalar()

    try:
        assert value() == 0
        # Another connection writes (it would wait, then fail, if the kept one held a lock)…
        with engine.begin() as connection:
            connection.execute(text("UPDATE readconn_probe SET value = 1"))
        assert value() == 1  # … and the next request sees it
    finally:
        with engine.begin() as connection:
            connection.execute(text("DROP TABLE readconn_probe"))


def test_a_request_that_failed_closes_its_connection(app, engine):
    with pytest.raises(RuntimeError), app.test_request_context("/"):
        failed = read_connection()
        raise RuntimeError("the page failed")
    assert failed.closed  # back to the pool, reset: the next request takes another one
    assert read(app) is not failed


def test_a_request_that_may_write_uses_the_orm_session(app):
    with app.test_request_context("/", method="POST"):
        assert read_connection() is _db.session.connection()
    with app.test_request_context("/"):
        lent = read_connection()
        assert lent is not _db.session.connection()  # db.session keeps its own
        with write_intent():
            assert read_connection() is _db.session.connection()
        assert read_connection() is lent


def test_a_connection_the_database_dropped_is_replaced(app, engine):
    kept = read(app)
    if engine.dialect.name == "postgresql":
        pid = kept.execute(text("SELECT pg_backend_pid()")).scalar()
        with engine.connect() as other:
            other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    else:  # the file closed under it, as a restart closes a server's connection
        kept.connection.dbapi_connection.close()
    with app.test_request_context("/"):
        row = first_row(lambda connection: connection.execute(ONE))
        assert row.one == 1
        assert read_connection() is not kept
    assert kept.closed
    assert read(app) is not kept


def test_a_kept_connection_is_never_used_through_a_fork(app, engine):
    kept = read(app)
    reading, writing = os.pipe()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # fork with threads running
        pid = os.fork()
    if pid == 0:  # the child: its own pool, as a server's worker after the fork
        try:
            engine.dispose(close=False)
            os.write(writing, b"kept" if read(app) is kept else b"own")
        finally:
            os._exit(0)
    os.close(writing)
    answer = os.read(reading, 16)
    os.close(reading)
    os.waitpid(pid, 0)
    assert answer == b"own"
    assert read(app) is kept  # the parent keeps its own


def test_tests_read_on_their_own_connection(app, db):
    with app.test_request_context("/"):
        assert read_connection() is app.extensions[CONNECTIONS].bound
