"""Unit fixtures: a SQLite file configured as the app's engine, with one counter row."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from datapass.database import configure_engine


@pytest.fixture
def engine(tmp_path):
    """An engine of its own (WAL, busy timeout, ``BEGIN IMMEDIATE`` for writers) on a file
    holding ``counter`` (id 1, value 0)."""
    engine = create_engine(f"sqlite:///{tmp_path / 'counter.sqlite3'}")
    configure_engine(engine)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE counter (id INTEGER PRIMARY KEY, value INTEGER)"))
        connection.execute(text("INSERT INTO counter VALUES (1, 0)"))
    yield engine
    engine.dispose()
