"""The query counter: the SQL statements a page (or any block of code) runs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event

from datapass.extensions import db as _db


@contextmanager
def recorded_statements() -> Iterator[list[str]]:
    """The statements run inside the ``with`` block (the test's savepoints left out)."""
    _db.session.flush()  # the factories' rows are not the code's queries
    statements: list[str] = []

    def record(*args):
        # The test's own transaction opens savepoints (services' commits): not the page's.
        if not args[2].startswith(("SAVEPOINT", "RELEASE")):
            statements.append(args[2])

    event.listen(_db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(_db.engine, "before_cursor_execute", record)


def page_statements(client, path: str) -> list[str]:
    """The statements of ``GET path`` (which must answer 200)."""
    with recorded_statements() as statements:
        assert client.get(path).status_code == 200
    return statements


def count_queries(client, path: str) -> int:
    return len(page_statements(client, path))
