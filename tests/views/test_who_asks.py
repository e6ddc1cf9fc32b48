"""What every signed-in page pays to know who asks: the session, its user and roles in one
statement without hydrating a collection; the reads of a page that only reads without a
transaction, the writes in one."""

from __future__ import annotations

import time
from contextlib import contextmanager

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import event, select
from sqlalchemy.orm import lazyload

from datapass.database import lone_statements, write_intent, write_transaction, writes
from datapass.extensions import db as _db
from datapass.models import User, UserRole
from datapass.services import users
from tests.factories import UserFactory
from tests.support.queries import page_statements

QUEUE = "/instruction/tableau-de-bord/demandes?tri=recent"
ROLE = "api_particulier:instructor"


def test_session_user_and_roles_come_in_one_statement_with_no_orm_object(client, db, login_as):
    login_as(roles=[ROLE])
    db.session.expunge_all()  # as in production: each request starts with nothing loaded
    loaded = []

    def record(_session, obj):
        loaded.append(type(obj).__name__)

    event.listen(db.session, "loaded_as_persistent", record)
    try:
        statements = page_statements(client, QUEUE)
    finally:
        event.remove(db.session, "loaded_as_persistent", record)
    on_roles = [s for s in statements if "user_roles" in s]
    assert len(on_roles) == 1 and "user_sessions" in on_roles[0]
    # A page that only reads gets a ``SessionUser`` from plain columns: no ORM object.
    assert "User" not in loaded and "UserRole" not in loaded


def test_a_role_granted_or_revoked_is_seen_on_the_next_request(client, db, login_as):
    user = login_as()
    assert client.get(QUEUE).status_code == 403
    users.grant_role(user.email, ROLE)
    assert client.get(QUEUE).status_code == 200
    users.revoke_role(user.email, ROLE)
    assert client.get(QUEUE).status_code == 403
    # The same with nothing kept between requests (production).
    users.grant_role(user.email, ROLE)
    db.session.expunge_all()
    assert client.get(QUEUE).status_code == 200
    users.revoke_role(user.email, ROLE)
    db.session.expunge_all()
    assert client.get(QUEUE).status_code == 403


def test_roles_read_with_the_user_serve_until_role_grants_load_or_the_user_expires(db):
    user_id = UserFactory(roles=[ROLE]).id
    db.session.commit()
    db.session.expunge_all()
    user = db.session.scalar(
        select(User).options(lazyload(User.role_grants)).where(User.id == user_id)
    )
    user.keep_roles(["admin"])  # what the session's statement read (here: made up)
    assert user.roles == {"admin"} and user.is_admin
    assert "role_grants" not in user.__dict__
    assert [grant.role for grant in user.role_grants] == [ROLE]  # loaded: it wins
    assert user.roles == {ROLE} and not user.is_admin
    # A commit expires the user (and the collection): unchanged, the snapshot serves again,
    # without a lazy load (marking messages read on a page, then checking permissions).
    user.keep_roles([ROLE])
    db.session.commit()
    assert "role_grants" not in user.__dict__
    assert user.roles == {ROLE} and "role_grants" not in user.__dict__
    # Changed through the collection: the collection wins, after a commit too.
    user.role_grants.append(UserRole(role="admin"))
    assert user.roles == {ROLE, "admin"}
    db.session.commit()
    assert user.roles == {ROLE, "admin"}


@contextmanager
def _begins(engine):
    """The BEGIN statements emitted on ``engine``'s connections (SQLite emits them)."""
    seen: list[str] = []

    def record(_connection, _cursor, statement, *_args):
        if statement.startswith("BEGIN"):
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


@pytest.fixture
def real_session(app):
    """``db.session`` on the app's engine (not the test's connection), for reads only."""
    with app.app_context():
        yield _db.engine
        _db.session.remove()


def _bound_engine():
    return _db.session.connection().engine


def test_a_page_that_only_reads_runs_without_a_transaction(app, real_session):
    engine = real_session
    sqlite = engine.dialect.name == "sqlite"
    with _begins(engine) as begins, app.test_request_context("/", method="GET"):
        assert _db.session.scalar(select(1)) == 1
        assert _bound_engine() is lone_statements(engine)
        _db.session.remove()
    assert begins == []
    # A short write at the end of the read: a transaction of its own, write lock first.
    with _begins(engine) as begins, app.test_request_context("/", method="GET"):
        _db.session.scalar(select(1))
        with write_transaction():
            assert _bound_engine() is engine
        _db.session.remove()
    assert begins == (["BEGIN IMMEDIATE"] if sqlite else [])


@pytest.mark.parametrize("method", ["POST", "GET @writes", "worker"])
def test_what_may_write_still_begins_a_transaction(app, real_session, method):
    engine = real_session
    with _begins(engine) as begins:
        if method == "worker":  # outside requests, even a delivery that mostly reads
            with write_intent(False):
                assert _bound_engine() is engine
        elif method == "POST":
            with app.test_request_context("/", method="POST"):
                assert _bound_engine() is engine
        else:
            with app.test_request_context("/", method="GET"):
                writes(lambda: None)()
                assert _bound_engine() is engine
        _db.session.remove()
    if engine.dialect.name == "sqlite":
        assert begins == ["BEGIN" if method == "worker" else "BEGIN IMMEDIATE"]


def test_the_cookie_s_serializer_is_built_once_and_still_refuses_altered_or_old_cookies(
    app, client, db, login_as, monkeypatch
):
    interface = app.session_interface
    serializer = interface.get_signing_serializer(app)
    assert interface.get_signing_serializer(app) is serializer
    login_as(roles=[ROLE])
    name = app.config["SESSION_COOKIE_NAME"]
    value = client.get_cookie(name).value
    assert client.get(QUEUE).status_code == 200

    def answer(cookie: str) -> int:
        client.set_cookie(name, cookie)
        return client.get(QUEUE).status_code

    signature = value.rsplit(".", 1)[1]
    altered = value[: -len(signature)] + ("A" if signature[0] != "A" else "B") + signature[1:]
    assert answer(altered) == 302  # to the sign-in page
    # The same content signed before the cookie's lifetime: refused.
    lifetime = int(app.permanent_session_lifetime.total_seconds())

    class SignedLongAgo(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - lifetime - 60

    old = URLSafeTimedSerializer(
        app.secret_key,
        salt=interface.salt,
        serializer=interface.serializer,
        signer=SignedLongAgo,
        signer_kwargs={"key_derivation": "hmac", "digest_method": interface.digest_method},
    )
    assert answer(old.dumps(serializer.loads(value))) == 302
    assert answer(value) == 200
    # Another secret key: another serializer, which refuses the cookie signed with the first.
    monkeypatch.setattr(app, "secret_key", "another-secret-key-for-this-test")
    assert interface.get_signing_serializer(app) is not serializer
    assert answer(value) == 302


def test_no_rate_limit_check_runs_before_every_request(app):
    # Every limit decorates its view and checks itself (tests/views/test_rate_limits.py).
    from datapass.extensions import limiter

    assert limiter.enabled
    assert limiter._check_request_limit not in app.before_request_funcs[None]


def test_another_address_or_browser_keeps_the_session_without_hashing_them(client, db, login_as):
    from datapass.extensions import login_manager

    login_as(roles=[ROLE])
    assert client.get("/compte").status_code == 200  # the cookie becomes permanent
    # The server-side session is what is checked: Flask-Login's session protection (a
    # hash of the address and user agent at every request) is off, the cookie unchanged.
    assert login_manager.session_protection is None
    response = client.get(
        "/compte",
        headers={"User-Agent": "Autre navigateur"},
        environ_base={"REMOTE_ADDR": "10.0.0.9"},
    )
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
