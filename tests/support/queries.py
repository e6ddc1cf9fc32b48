"""What a page asks the database: its statements, and the relationships it loads lazily."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session

from datapass.extensions import db


@contextmanager
def recorded_statements() -> Iterator[list[str]]:
    statements: list[str] = []

    def record(*args):
        statements.append(args[2])

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


@contextmanager
def recorded_lazy_loads() -> Iterator[list[str]]:
    """« Class.relationship » for every lazy load (a load the query did not ask for)."""
    loads: list[str] = []

    def record(state: ORMExecuteState):
        if state.lazy_loaded_from is not None:
            loads.append(f"{state.lazy_loaded_from.class_.__name__}: {state.statement}")

    event.listen(Session, "do_orm_execute", record)
    try:
        yield loads
    finally:
        event.remove(Session, "do_orm_execute", record)
