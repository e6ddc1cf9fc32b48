"""Counting the SQL statements a page costs (constant whatever the rows: keyset pages)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event

from datapass.extensions import db


@contextmanager
def recorded_statements() -> Iterator[list[str]]:
    """The statements sent to the database inside the block."""
    statements: list[str] = []

    def record(connection, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def page_queries(client, path: str) -> int:
    """How many statements ``GET path`` sends (the page must answer 200)."""
    with recorded_statements() as statements:
        assert client.get(path).status_code == 200
    return len(statements)
