"""Shared fixtures: one app per test session, a database rolled back after each test."""

from __future__ import annotations

import os
import re
import threading
from urllib.parse import urlsplit

import pytest
from flask import g, has_app_context
from flask.testing import FlaskClient
from flask_sqlalchemy.session import Session as FlaskSession
from werkzeug.serving import make_server

from datapass import create_app
from datapass.database import CONNECTIONS
from datapass.extensions import db as _db
from datapass.local_idp import create_idp_app
from datapass.services import statistics
from tests.support.smtp import SmtpServer
from tests.support.write_intent import undeclared_writes

# The local identity provider speaks plain http on 127.0.0.1.
os.environ.setdefault("AUTHLIB_INSECURE_TRANSPORT", "1")
OIDC_CLIENT_ID = "datapass-test"
# Small limits, so that tests/views/test_rate_limits.py reaches each one in a few calls; the
# counters are emptied before each test (``reset_rate_limits``).
RATE_LIMITS = {
    "RATELIMIT_INTROSPECTION": "6 per minute",
    "RATELIMIT_OAUTH_TOKEN": "6 per minute",
    "RATELIMIT_SIGN_IN": "6 per minute",
    "RATELIMIT_WEBHOOK_PINGS": "6 per hour",
    "RATELIMIT_SIRENE_LOOKUPS": "6 per hour",
    "RATELIMIT_UPLOADS": "8 per day",
    "RATELIMIT_NEW_DRAFTS": "6 per day",
}


def pytest_report_header(config):
    url = os.environ.get("TEST_DATABASE_URL") or "sqlite (temporary file)"
    return f"database: {re.sub(r'//[^@/]*@', '//***@', url)}"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    return os.environ.get("TEST_DATABASE_URL") or (
        f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
    )


class ServerThread:
    """A WSGI app served on 127.0.0.1 in a thread, for the duration of the test session."""

    def __init__(self, wsgi_app):
        self.server = make_server("127.0.0.1", 0, wsgi_app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.thread.join(timeout=5)


@pytest.fixture(scope="session")
def idp_url():
    """The bundled local OpenID Connect provider (oidc-provider-mock), JWT userinfo on."""
    with ServerThread(create_idp_app(audience=OIDC_CLIENT_ID)) as server:
        yield server.url


@pytest.fixture
def smtp(app, monkeypatch):
    """A real SMTP server on 127.0.0.1 for this test, set as the app's; yields its inbox."""
    server = SmtpServer().start()
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", server.port)
    monkeypatch.setitem(app.config, "MAIL_TIMEOUT_SECONDS", 2)
    yield server.inbox
    server.stop()


@pytest.fixture(scope="session")
def sirene_url(make_httpserver):
    """The registry API stand-in; tests add answers through pytest-httpserver's ``httpserver``."""
    return make_httpserver.url_for("").rstrip("/")


class IsolatedClient(FlaskClient):
    """A test client whose requests start with an empty ``g``, as in production.

    Tests run inside the app context of the ``db`` fixture, and Flask reuses a pushed app
    context for the requests of the test client: without this, values cached in ``g`` by
    one request (the CSRF token, the signed-in user) would leak into the next one.
    """

    def open(self, *args, **kwargs):
        if has_app_context():
            for name in list(g):
                g.pop(name)
        return super().open(*args, **kwargs)


@pytest.fixture(scope="session")
def app(tmp_path_factory, database_url, idp_url, sirene_url):
    instance = tmp_path_factory.mktemp("instance")
    app = create_app(
        {"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url, "SERVER_NAME": "localhost"},
        environ={
            "DATAPASS_ENV": "test",
            "INSTANCE_DIR": str(instance),
            "OIDC_DISCOVERY_URL": f"{idp_url}/.well-known/openid-configuration",
            "OIDC_CLIENT_ID": OIDC_CLIENT_ID,
            "OIDC_CLIENT_SECRET": "test-secret",
            "SIRENE_API_URL": sirene_url,
            "SIRENE_TIMEOUT_SECONDS": "1",
            **RATE_LIMITS,
            # Webhooks post to the local HTTP server (pytest-httpserver): a private address on
            # a port of its own. tests/services/test_no_internal_reach.py turns this off.
            "WEBHOOK_ALLOW_PRIVATE_NETWORKS": "1",
            "WEBHOOK_ALLOWED_PORTS": str(urlsplit(sirene_url).port),
        },
    )
    app.test_client_class = IsolatedClient
    with app.app_context():
        _db.drop_all()
        _db.create_all()
    yield app
    app.extensions["datapass_lane"].connections.close()
    app.extensions[CONNECTIONS].close()
    with app.app_context():
        _db.drop_all()
        _db.engine.dispose()


@pytest.fixture(autouse=True)
def reset_rate_limits():
    """Each test starts with empty rate-limit counters (they live in memory in tests)."""
    from datapass.extensions import limiter

    if limiter.initialized:
        limiter.reset()


class ConnectionBoundSession(FlaskSession):
    """Flask-SQLAlchemy's session, bound to the test's connection when given one.

    Flask-SQLAlchemy's ``get_bind`` picks an engine and ignores the session's own ``bind``
    (SQLAlchemy 2.1 no longer passes it along), which would let tests commit for real.
    """

    def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):
        return bind or self.bind or super().get_bind(mapper, clause, bind, **kwargs)


@pytest.fixture
def db(app):
    """The database inside a transaction that is rolled back after the test.

    Services may commit: with ``join_transaction_mode="create_savepoint"`` their
    commits only release savepoints of the outer transaction.
    """
    with app.app_context():
        statistics.clear_cache()  # numbers computed from another test's rolled-back rows
        connection = _db.engine.connect()
        transaction = connection.begin()
        session = _db._make_scoped_session(
            {
                "bind": connection,
                "join_transaction_mode": "create_savepoint",
                "class_": ConnectionBoundSession,
            }
        )
        previous = _db.session
        _db.session = session
        # The introspections' fast lane (api/lane.py) runs Core statements outside the ORM
        # session: on this connection too.
        # So do the pages' reads in a request that only reads (database.read_connection).
        kept = (app.extensions["datapass_lane"].connections, app.extensions[CONNECTIONS])
        for connections in kept:
            connections.bind(connection)
        try:
            yield _db
        finally:
            for connections in kept:
                connections.bind(None)
            session.remove()
            _db.session = previous
            if transaction.is_active:
                transaction.rollback()
            connection.close()


@pytest.fixture(autouse=True)
def writes_declared(request):
    """Every write of a request happens in a transaction declared as writing (on SQLite it
    took the write lock when it began): a GET that writes needs ``@writes`` or
    ``write_transaction`` (datapass/database.py). Checked for the tests that use ``db``."""
    if "db" not in request.fixturenames:
        yield
        return
    database = request.getfixturevalue("db")
    with undeclared_writes(
        request.getfixturevalue("app"), database.session, database.engine
    ) as found:
        yield
    assert found == [], "writes in a transaction that did not take the write lock"


@pytest.fixture
def client(app, db):
    return app.test_client()


@pytest.fixture
def login_as(app, db, client):
    """Sign a user in directly (fast path for tests that are not about sign-in itself)."""
    from datapass.services.sessions import start_session
    from datapass.views.auth import SESSION_KEY
    from tests.factories import UserFactory

    def _login(user=None, *, roles=(), **attributes):
        user = user or UserFactory(roles=list(roles), **attributes)
        key = start_session(user)
        db.session.commit()
        with client.session_transaction() as session:
            session[SESSION_KEY] = key
            session["_user_id"] = str(user.id)
            session["_fresh"] = True
        return user

    return _login


@pytest.fixture(scope="session")
def s3_server():
    """A real S3 API server (moto's server mode) for the session; AWS variables set for boto3."""
    from tests.support.s3 import CREDENTIALS, S3Server

    saved = {name: os.environ.get(name) for name in CREDENTIALS}
    os.environ.update(CREDENTIALS)
    try:
        with S3Server() as server:
            yield server
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@pytest.fixture
def s3_storage(app, s3_server, monkeypatch):
    """The app's documents in a fresh bucket of the S3 server (``STORAGE_URL=s3://…``)."""
    import secrets

    from datapass.storage import storage_from_config

    bucket = f"datapass-{secrets.token_hex(4)}"
    config = {"STORAGE_URL": f"s3://{bucket}/documents", "S3_ENDPOINT_URL": s3_server.endpoint_url}
    storage = storage_from_config(config)
    storage.client.create_bucket(
        Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-3"}
    )
    monkeypatch.setitem(app.extensions, "storage", storage)
    return storage
