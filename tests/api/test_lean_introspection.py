"""The lean introspection (issue 16): one statement per call, no browser machinery."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest
from flask import request
from sqlalchemy import create_engine
from werkzeug.test import EnvironBuilder

from datapass.api.lane import Lane
from datapass.crypto import digest
from datapass.database import Connections
from datapass.models.base import utcnow
from datapass.services import tokens
from tests.support.authorization_requests import approved_request
from tests.support.http import reload
from tests.support.statements import Statements


@pytest.fixture
def credentials(db):
    """An introspection client, and the HTTP Basic header of its credentials."""
    api_client, secret = tokens.create_client("API Particulier (tests)")
    pair = f"{api_client.client_id}:{secret}".encode()
    return api_client, {"Authorization": "Basic " + base64.b64encode(pair).decode()}


@pytest.fixture
def token_value(app, db):
    """The revealed value of the token of a fresh habilitation, and the token."""
    request = approved_request(app)
    token = request.authorizations[0].tokens[0]
    return tokens.reveal(token, request.applicant), token


def post(client, headers, value):
    return client.post("/api/oauth/introspect", data={"token": value}, headers=headers)


def legacy(client, value):
    return client.get("/api/introspect", headers={"X-Api-Key": value})


def test_each_introspection_call_is_one_statement_after_warm_up(
    client, db, credentials, token_value
):
    _, headers = credentials
    value, _ = token_value
    assert post(client, headers, value).get_json()["active"] is True  # warm-up: last use written
    db.session.expire_all()
    for call in (
        lambda: post(client, headers, value),
        lambda: post(client, headers, "dpt_" + "x" * 43),  # unknown token
        lambda: legacy(client, value),
    ):
        with Statements(db.engine) as statements:
            assert call().status_code == 200
        statements.sql = [
            sql for sql in statements.sql if not sql.startswith(("SAVEPOINT", "RELEASE"))
        ]
        assert len(statements.sql) == 1, statements.sql
    [lookup] = statements.sql
    assert "api_tokens.token_hash = " in lookup and "answers" not in lookup


def test_the_client_is_checked_in_the_same_statement(client, db, credentials, token_value):
    api_client, headers = credentials
    value, _ = token_value
    with Statements(db.engine) as statements:
        assert post(client, headers, value).status_code == 200
    [lookup] = [sql for sql in statements.sql if sql.lstrip().upper().startswith("SELECT")]
    assert "FROM api_clients LEFT OUTER JOIN" in " ".join(lookup.split())
    # A revoked client is refused by the very next call (no cache to wait for).
    tokens.revoke_client(api_client)
    assert post(client, headers, value).status_code == 401


def test_a_rotated_secret_is_refused_at_once_after_warm_calls(client, db, credentials, token_value):
    api_client, headers = credentials
    value, _ = token_value
    for _ in range(3):  # warm: whatever a process kept of these credentials
        assert post(client, headers, value).get_json()["active"] is True
    api_client.secret_hash = digest("le-nouveau-secret")
    db.session.commit()
    answer = post(client, headers, value)
    assert answer.status_code == 401
    assert answer.get_json()["error"] == "invalid_client"
    pair = base64.b64encode(f"{api_client.client_id}:le-nouveau-secret".encode()).decode()
    renewed = post(client, {"Authorization": f"Basic {pair}"}, value)
    assert renewed.get_json()["active"] is True


def test_a_revoked_habilitations_token_is_inactive(app, client, db, credentials, token_value):
    _, headers = credentials
    value, token = token_value
    token.revoked_at = utcnow()
    db.session.commit()
    assert post(client, headers, value).get_json() == {"active": False}
    assert legacy(client, value).status_code == 401


def test_the_last_use_is_stamped_once_a_minute(client, db, credentials, token_value):
    _, headers = credentials
    value, token = token_value
    post(client, headers, value)
    first = reload(token).last_used_at
    assert first is not None
    legacy(client, value)
    assert reload(token).last_used_at == first
    token.last_used_at = first - timedelta(minutes=2)
    db.session.commit()
    legacy(client, value)
    assert reload(token).last_used_at > first - timedelta(minutes=2)


def test_machine_endpoints_neither_read_nor_send_the_session_cookie(
    client, db, credentials, token_value, login_as
):
    _, headers = credentials
    value, _ = token_value
    post(client, headers, value)  # warm-up: last use written
    login_as()  # a browser session cookie is present in the client
    for call in (lambda: post(client, headers, value), lambda: legacy(client, value)):
        with Statements(db.engine) as statements:
            response = call()
        assert response.status_code == 200
        assert "Set-Cookie" not in response.headers
        assert "Cookie" not in response.headers.get("Vary", "")
        # The session's row is not looked up, nor its user: the lookup is all there is.
        assert not statements.on("user_sessions") and not statements.on("users")
        assert [sql for sql in statements.sql if sql.lstrip().startswith("SELECT")] == [
            sql for sql in statements.sql if "api_tokens.token_hash" in sql
        ]


def test_answers_carry_the_security_headers(client, db, credentials, token_value):
    _, headers = credentials
    value, _ = token_value
    for response in (
        post(client, headers, value),
        post(client, {}, value),  # 401
        legacy(client, value),
        legacy(client, "dpt_inconnu"),  # 401
    ):
        assert response.mimetype == "application/json"
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
        assert int(response.headers["Content-Length"]) == len(response.data)


def test_unauthenticated_calls_keep_their_answers(client, db, token_value):
    value, _ = token_value
    refused = post(client, {}, value)
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"] == 'Basic realm="datapass"'
    assert refused.get_json() == {
        "error": "invalid_client",
        "error_description": "Identifiants du client absents ou incorrects.",
    }
    unknown = legacy(client, "dpt_inconnu")
    assert unknown.status_code == 401
    assert unknown.get_json() == {"error": "acces_denied", "reason": "Jeton inconnu ou inactif."}


def test_what_the_lane_leaves_to_flask_gets_the_same_answers(
    app, client, db, credentials, token_value
):
    """A multipart body, HEAD, a body over the size limit: Flask's routes answer them."""
    _, headers = credentials
    value, _ = token_value
    multipart = client.post(
        "/api/oauth/introspect",
        data={"token": value},
        headers=headers,
        content_type="multipart/form-data",
    )
    assert multipart.get_json() == post(client, headers, value).get_json()
    assert multipart.get_json()["active"] is True
    assert multipart.headers["Cache-Control"] == "no-store"
    assert multipart.headers["X-Frame-Options"] == "DENY"
    head = client.head("/api/introspect", headers={"X-Api-Key": value})
    assert head.status_code == 200 and head.data == b""
    oversized = client.post(
        "/api/oauth/introspect",
        data="token=" + "x" * app.config["MAX_CONTENT_LENGTH"],
        headers={**headers, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert oversized.status_code == 413
    assert oversized.get_json()["errors"][0]["status"] == "413"
    assert client.get("/api/oauth/introspect").status_code == 405


def test_the_calls_are_answered_before_flask(app, client, db, credentials, token_value):
    """No request context, hook, session, user or CSRF check: Flask never sees the calls
    (but those the lane leaves to it)."""
    _, headers = credentials
    value, _ = token_value
    seen = []
    hooks = app.before_request_funcs.setdefault(None, [])
    hooks.append(lambda: seen.append(request.path))
    try:
        assert post(client, headers, value).status_code == 200
        assert legacy(client, value).status_code == 200
        assert seen == []
        assert client.head("/api/introspect", headers={"X-Api-Key": value}).status_code == 200
        assert seen == ["/api/introspect"]
    finally:
        hooks.pop()


def test_a_database_failure_is_the_apis_json_500_without_the_token_in_logs(
    app, tmp_path, monkeypatch, caplog
):
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    unreachable = create_engine(f"sqlite:///{tmp_path / 'absent' / 'datapass.sqlite3'}")
    lane = Lane(app, Connections(unreachable))
    value = "dpt_" + "s" * 43
    environ = EnvironBuilder(path="/api/introspect", headers={"X-Api-Key": value}).get_environ()
    started = []
    body = b"".join(lane(environ, lambda status, headers: started.append((status, headers))))
    [(status, headers)] = started
    assert status == "500 Internal Server Error"
    assert json.loads(body)["errors"][0]["status"] == "500"
    assert ("X-Frame-Options", "DENY") in headers
    assert "introspection failed" in caplog.text
    assert value not in caplog.text and digest(value) not in caplog.text
