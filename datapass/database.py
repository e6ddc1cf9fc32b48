"""Engine-level settings that make SQLite behave like the PostgreSQL we run in production.

Concurrent writers on SQLite: the database is in WAL mode (readers never block the writer)
with a busy timeout, and a transaction that may write takes the write lock when it begins
(``BEGIN IMMEDIATE``) rather than at its first write. A deferred transaction that has read
cannot wait for the lock: SQLite refuses its first write at once (``database is locked``)
when another connection wrote meanwhile. An immediate one waits its turn (the busy timeout)
and then sees the latest data.

Which transactions may write: those of unsafe HTTP requests (POST…) but the views marked
``@reads``, those of the views marked ``@writes`` (a GET that signs in), of
``write_intent()`` blocks, and everything outside a request (CLI, worker). A GET page reads
without a transaction (``ReadsAloneSession``: each statement on its own, no ``BEGIN`` and
no ``ROLLBACK``), the worker's deliveries in a deferred transaction, without the lock
(``write_intent(False)``: they wait for other servers).
PostgreSQL needs none of this: its row locks make writers wait.

Why a page that only reads needs no transaction: it holds no lock and writes nothing to
undo, and each of its statements is consistent on its own. Its statements may see
different snapshots (a change committed between two of them shows in the second), which
is what PostgreSQL's READ COMMITTED, our production engine, already gives inside a
transaction: the pages are written for it (a lazy load, a count beside a list). A read
followed by a write (``write_transaction``, ``@writes``) begins a real transaction, which
takes the write lock on SQLite and reads again what it changes.

``Connections`` serves the machine endpoints' fast lane (``api/lane.py``), which runs Core
statements outside the ORM session and outside any Flask context: a lone read runs without
a transaction (one statement, no ``BEGIN``, no ``ROLLBACK``: a single ``SELECT`` is
consistent on its own), a short write in its own transaction that takes the write lock.
The pages' Core reads (the session's statement, the queue's and the request page's) run on
``read_connection``: in a request that only reads, one connection of the request lent by the
app's own ``Connections`` and given back at its teardown (no ORM session, no pool check-out);
in any other, the ORM session's connection, inside its transaction.
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from flask import Flask, current_app, g, has_request_context, request
from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine, Result, Row
from sqlalchemy.exc import DBAPIError

logger = logging.getLogger(__name__)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Milliseconds a writer waits for the write lock before giving up.
BUSY_TIMEOUT_MS = 10_000
# True: may write; False: reads (a slow delivery of the worker); None: from the request.
_write_intent: ContextVar[bool | None] = ContextVar("datapass_write_intent", default=None)


def may_write() -> bool:
    """Whether a transaction beginning now may write (hence takes the write lock on SQLite)."""
    intent = _write_intent.get()
    if intent is not None:
        return intent
    if has_request_context():
        declared = g.get("datapass_writes")
        if declared is not None:
            return declared
        return request.method not in SAFE_METHODS
    return True


@contextmanager
def write_intent(writing: bool = True) -> Iterator[None]:
    """The transactions begun inside the block may write (on SQLite they take the write lock
    when they begin), or with ``writing=False`` mostly read: the outbox worker's deliveries,
    which wait for an SMTP server or a webhook and must not hold the lock meanwhile."""
    marker = _write_intent.set(writing)
    try:
        yield
    finally:
        _write_intent.reset(marker)


@contextmanager
def write_transaction() -> Iterator[None]:
    """A short write at the end of a read (a GET page marking messages read): the read
    transaction ends (nothing was written in it), the block runs in a transaction that may
    write (on SQLite it waits for the write lock, then sees the latest data) and is committed;
    rolled back if the block raises."""
    from datapass.extensions import db

    db.session.commit()
    with write_intent():
        try:
            yield
            db.session.commit()
        except BaseException:
            db.session.rollback()
            raise


def writes(view: Callable) -> Callable:
    """A view that writes although its method is safe (GET): its transactions take the write
    lock when they begin. A read transaction already open (a ``before_request`` hook's) is
    ended first: nothing was written in it."""
    return _declare(view, writing=True)


def reads(view: Callable) -> Callable:
    """A view that only reads although its method is not safe (a lookup by POST): its
    transactions do not take the write lock (a short write of its own uses
    ``write_transaction``)."""
    return _declare(view, writing=False)


def _declare(view: Callable, *, writing: bool) -> Callable:
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        from datapass.extensions import db

        g.datapass_writes = writing
        session = db.session()
        if session.in_transaction() and not (session.new or session.dirty or session.deleted):
            session.commit()
        return view(*args, **kwargs)

    return wrapper


def configure_engine(engine: Engine) -> None:
    """Foreign keys on, real transactions/savepoints and waiting writers for SQLite; nothing
    for PostgreSQL."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy emit BEGIN itself so that SAVEPOINT works (pysqlite's own
        # transaction handling does not), and enforce foreign keys.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # The busy timeout first: switching to WAL may itself wait for another connection.
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        if connection.get_execution_options().get(LONE_STATEMENTS):
            return  # pysqlite's autocommit: each statement on its own (``lone_statements``)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if may_write() else "BEGIN")


# The execution option of ``lone_statements`` on SQLite (PostgreSQL has AUTOCOMMIT).
LONE_STATEMENTS = "datapass_lone_statements"
_LONE_ENGINES: dict[Engine, Engine] = {}


def lone_statements(engine: Engine) -> Engine:
    """The engine (same pool) whose connections run each statement on its own, outside a
    transaction: for a single read, no ``BEGIN`` and no ``ROLLBACK`` round trip."""
    lone = _LONE_ENGINES.get(engine)
    if lone is None:
        if engine.dialect.name == "sqlite":
            lone = engine.execution_options(**{LONE_STATEMENTS: True})
        else:
            lone = engine.execution_options(isolation_level="AUTOCOMMIT")
        _LONE_ENGINES[engine] = lone
    return lone


def reads_alone() -> bool:
    """Whether the request's statements run on their own (no transaction): a request that
    only reads (a GET page, a ``@reads`` view), outside any ``write_intent`` block."""
    return _write_intent.get() is None and has_request_context() and not may_write()


class ReadsAloneSession(FlaskSession):
    """``db.session``: in a request that only reads (``reads_alone``), its statements run on
    a connection of ``lone_statements`` (no ``BEGIN``, no ``ROLLBACK``; see the module's
    docstring for why); anywhere else in a transaction as usual. A read that turns into a
    write (``write_transaction``, ``@writes``) commits first, and its transaction then
    begins on an ordinary connection."""

    def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):
        engine = super().get_bind(mapper, clause, bind, **kwargs)
        if bind is None and isinstance(engine, Engine) and reads_alone():
            return lone_statements(engine)
        return engine


class Connections:
    """Where the fast lane's statements go: the engine's connections, or, in tests, the
    test's own connection (``bind``: inside its transaction, rolled back afterwards).

    A read (``first``) runs on its own (``lone_statements``) on a connection kept aside
    between calls (at most ``IDLE_READERS`` per process, the others go back to the pool):
    no pool check-out, reset and check-in per call. Such a connection holds no transaction,
    hence no lock and no snapshot; one that the database dropped (a restart) is replaced and
    the read run once more."""

    IDLE_READERS = 2

    def __init__(self, engine: Engine):
        self.engine = engine
        self._lone = lone_statements(engine)
        self._idle: list[tuple[int, Connection]] = []
        self.bound: Connection | None = None

    def bind(self, connection: Connection | None) -> None:
        self.bound = connection

    def first(self, statement, parameters: dict) -> Row | None:
        """The first row of one read statement (no transaction around it)."""
        if self.bound is not None:
            return self.bound.execute(statement, parameters).first()
        connection = self._take()
        try:
            row = connection.execute(statement, parameters).first()
        except DBAPIError as error:
            connection.close()
            if not error.connection_invalidated:
                raise
            with self._lone.connect() as fresh:
                return fresh.execute(statement, parameters).first()
        except BaseException:
            connection.close()
            raise
        self._give_back(connection)
        return row

    def lend(self) -> Connection:
        """A connection for a request's reads (``read_connection``): a kept one or a new
        one (the test's own in tests), to ``give_back`` at the request's teardown."""
        if self.bound is not None:
            return self.bound
        return self._take()

    def give_back(self, connection: Connection, *, failed: bool = False) -> None:
        """Keep a lent connection aside for the next request, or close it (back to the pool)
        when the request failed or the database dropped it: the next one takes a fresh one."""
        if connection is self.bound:
            return
        if failed or connection.invalidated or connection.closed:
            connection.close()
        else:
            self._give_back(connection)

    def _take(self) -> Connection:
        pid = os.getpid()
        while self._idle:
            try:
                owner, connection = self._idle.pop()
            except IndexError:  # another thread took the last one
                break
            if owner == pid:  # never one inherited through a fork
                return connection
        return self._lone.connect()

    def _give_back(self, connection: Connection) -> None:
        if len(self._idle) < self.IDLE_READERS:
            self._idle.append((os.getpid(), connection))
        else:
            connection.close()

    def close(self) -> None:
        """Give the kept connections back to the pool (before ``engine.dispose()``)."""
        while self._idle:
            self._idle.pop()[1].close()

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A short write transaction (the write lock taken when it begins on SQLite),
        committed at the end of the block, rolled back if it raises."""
        if self.bound is not None:
            with self.bound.begin_nested():
                yield self.bound
            return
        with write_intent(), self.engine.begin() as connection:
            yield connection


# Where the app keeps its ``Connections`` (``app.extensions``), and ``g``'s name for the
# connection lent to the request.
CONNECTIONS = "datapass_connections"
_LENT = "datapass_read_connection"


def install_connections(app: Flask, engine: Engine) -> Connections:
    """The app's kept connections for the pages' Core reads (``read_connection``), each
    request's given back at its teardown, also after an error."""
    connections = app.extensions[CONNECTIONS] = Connections(engine)

    @app.teardown_request
    def _give_back(error: BaseException | None) -> None:
        connection = g.pop(_LENT, None)
        if connection is not None:
            connections.give_back(connection, failed=error is not None)

    return connections


def read_connection() -> Connection:
    """Where a service runs its Core reads. In a request that only reads (``reads_alone``):
    one connection of the request, lent by the app's ``Connections`` when first needed (no
    ORM session, no pool check-out, no ``BEGIN``/``ROLLBACK``: each statement on its own)
    and given back at the request's teardown. Anywhere else: the ORM session's connection,
    in its transaction. ``db.session`` keeps working beside it (its own connection)."""
    if reads_alone():
        connection = g.get(_LENT)
        if connection is None:
            connection = current_app.extensions[CONNECTIONS].lend()
            setattr(g, _LENT, connection)
        return connection
    from datapass.extensions import db

    return db.session.connection()


def first_row(read: Callable[[Connection], Result]) -> Row | None:
    """The first row of a read run on ``read_connection`` (a request's first read: the
    session's). A kept connection that the database dropped meanwhile (a restart) is
    replaced and the read run once more, as ``Connections.first`` does."""
    connection = read_connection()
    try:
        return read(connection).first()
    except DBAPIError as error:
        if not error.connection_invalidated or g.get(_LENT) is not connection:
            raise
        delattr(g, _LENT)
        connection.close()
    return read(read_connection()).first()


def discard_changes() -> None:
    """Roll the session back after a failure, so that an error page can still query.

    For the error handlers (``views/errors.py``): services roll back what they refuse;
    this is the net for what escaped them. Never raises.
    """
    from datapass.extensions import db

    try:
        db.session.rollback()
    except Exception:
        logger.exception("rollback after an error failed")
