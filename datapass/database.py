"""Engine-level settings that make SQLite behave like the PostgreSQL we run in production.

Concurrent writers on SQLite: the database is in WAL mode (readers never block the writer)
with a busy timeout, and a transaction that may write takes the write lock when it begins
(``BEGIN IMMEDIATE``) rather than at its first write. A deferred transaction that has read
cannot wait for the lock: SQLite refuses its first write at once (``database is locked``)
when another connection wrote meanwhile. An immediate one waits its turn (the busy timeout)
and then sees the latest data.

Which transactions may write: those of unsafe HTTP requests (POST…) but the views marked
``@reads`` (introspection), those of the views marked ``@writes`` (a GET that signs in), of
``write_intent()`` blocks, and everything outside a request (CLI, worker). A GET page reads
in a deferred transaction, without the lock, and so do the worker's deliveries
(``write_intent(False)``: they wait for other servers).
PostgreSQL needs none of this: its row locks make writers wait.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from flask import g, has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine

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
    """A view that only reads although its method is not safe (an introspection POST): its
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
        connection.exec_driver_sql("BEGIN IMMEDIATE" if may_write() else "BEGIN")


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
