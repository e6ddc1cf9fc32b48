"""Engine-level settings that make SQLite behave like the PostgreSQL we run in production."""

from __future__ import annotations

import logging

from sqlalchemy import event
from sqlalchemy.engine import Engine

logger = logging.getLogger(__name__)


def configure_engine(engine: Engine) -> None:
    """Foreign keys on, and real transactions/savepoints, for SQLite; nothing for PostgreSQL."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy emit BEGIN itself so that SAVEPOINT works (pysqlite's own
        # transaction handling does not), and enforce foreign keys.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN")


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
