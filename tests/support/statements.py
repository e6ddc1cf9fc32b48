"""Record the SQL statements an engine runs, to count queries in tests."""

from __future__ import annotations

from sqlalchemy import event


class Statements:
    """The SQL statements the engine runs inside the ``with`` block."""

    def __init__(self, engine):
        self.engine = engine
        self.sql: list[str] = []

    def _record(self, conn, cursor, statement, parameters, context, executemany):
        self.sql.append(statement)

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self._record)

    def on(self, table: str) -> list[str]:
        return [sql for sql in self.sql if f"FROM {table}" in sql or f"UPDATE {table}" in sql]
