"""The fast lane's connections (issue 16): a read is one statement on a kept connection."""

from __future__ import annotations

import pytest
from sqlalchemy import event, literal, select, text

from datapass.database import Connections
from datapass.extensions import db as _db
from tests.support.statements import Statements

COUNTER = text("SELECT value FROM counter WHERE id = 1")


def checkouts(engine) -> list:
    seen = []
    event.listen(engine, "checkout", lambda *args: seen.append(1))
    return seen


@pytest.fixture
def connections(engine):
    connections = Connections(engine)
    yield connections
    connections.close()


def test_a_read_is_one_statement_on_a_connection_kept_between_calls(engine, connections):
    taken = checkouts(engine)
    with Statements(engine) as statements:
        for _ in range(3):
            assert connections.first(COUNTER, {}).value == 0
    assert statements.sql == [COUNTER.text] * 3  # no BEGIN, no ROLLBACK
    assert len(taken) == 1


def test_a_kept_connection_holds_no_snapshot_nor_lock(engine, connections):
    assert connections.first(COUNTER, {}).value == 0
    # Another connection writes (it would wait, then fail, if the kept one held a lock)…
    with engine.begin() as connection:
        connection.execute(text("UPDATE counter SET value = 1 WHERE id = 1"))
    # … and the next read sees it at once.
    assert connections.first(COUNTER, {}).value == 1


def test_a_write_is_its_own_committed_transaction(engine, connections):
    with Statements(engine) as statements, connections.write() as connection:
        connection.execute(text("UPDATE counter SET value = 5 WHERE id = 1"))
    assert statements.sql[0] == "BEGIN IMMEDIATE"  # waits for the write lock, never fails
    assert connections.first(COUNTER, {}).value == 5


def test_few_connections_are_kept_aside_from_the_pool(engine, connections):
    taken = [connections._take() for _ in range(Connections.IDLE_READERS + 2)]
    for connection in taken:
        connections._give_back(connection)
    assert len(connections._idle) == Connections.IDLE_READERS
    assert engine.pool.checkedout() == Connections.IDLE_READERS


def test_a_connection_the_database_dropped_is_replaced(app):
    """A PostgreSQL restart (the server ends the kept connection): the read is run again."""
    with app.app_context():
        engine = _db.engine
        if engine.dialect.name != "postgresql":
            pytest.skip("a server to end the connection: PostgreSQL")
        connections = Connections(engine)
        backend = select(literal(1).label("one"), text("pg_backend_pid() AS pid"))
        first = connections.first(backend, {})
        with engine.connect() as other:
            other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first.pid})
        again = connections.first(backend, {})
        assert again.one == 1 and again.pid != first.pid
        connections.close()
