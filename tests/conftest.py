"""Shared fixtures: one app per test session, a database rolled back after each test."""

from __future__ import annotations

import os
import re

import pytest

from datapass import create_app
from datapass.extensions import db as _db


def pytest_report_header(config):
    url = os.environ.get("TEST_DATABASE_URL") or "sqlite (temporary file)"
    return f"database: {re.sub(r'//[^@/]*@', '//***@', url)}"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    return os.environ.get("TEST_DATABASE_URL") or (
        f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
    )


@pytest.fixture(scope="session")
def app(tmp_path_factory, database_url):
    instance = tmp_path_factory.mktemp("instance")
    app = create_app(
        {"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url, "SERVER_NAME": "localhost"},
        environ={"DATAPASS_ENV": "test", "INSTANCE_DIR": str(instance)},
    )
    with app.app_context():
        _db.drop_all()
        _db.create_all()
    yield app
    with app.app_context():
        _db.drop_all()
        _db.engine.dispose()


@pytest.fixture
def db(app):
    """The database inside a transaction that is rolled back after the test.

    Services may commit: with ``join_transaction_mode="create_savepoint"`` their
    commits only release savepoints of the outer transaction.
    """
    with app.app_context():
        connection = _db.engine.connect()
        transaction = connection.begin()
        session = _db._make_scoped_session(
            {"bind": connection, "join_transaction_mode": "create_savepoint"}
        )
        previous = _db.session
        _db.session = session
        try:
            yield _db
        finally:
            session.remove()
            _db.session = previous
            if transaction.is_active:
                transaction.rollback()
            connection.close()


@pytest.fixture
def client(app, db):
    return app.test_client()
