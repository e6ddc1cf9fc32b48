"""The lean introspection (issue 16): one statement per call, no browser machinery."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest

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
    login_as()  # a browser session cookie is present in the client
    for response in (post(client, headers, value), legacy(client, value)):
        assert response.status_code == 200
        assert "Set-Cookie" not in response.headers
        assert "Cookie" not in response.headers.get("Vary", "")
