"""Token introspection's client authentication (HTTP Basic, read by werkzeug)."""

from __future__ import annotations

import base64

import pytest

from datapass.services import tokens

UNAUTHORIZED = {
    "error": "invalid_client",
    "error_description": "Identifiants du client absents ou incorrects.",
}


def basic(user: str, password: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


@pytest.fixture
def provider(db):
    return tokens.create_client("API Particulier (tests)")


def introspect(client, headers):
    return client.post("/api/oauth/introspect", data={"token": "dpt_unknown"}, headers=headers)


def test_the_right_credentials_get_an_answer(client, provider):
    row, secret = provider
    response = introspect(client, basic(row.client_id, secret))
    assert response.status_code == 200 and response.get_json() == {"active": False}
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Basic !!!"},
        {"Authorization": "Basic " + base64.b64encode(b"no-colon").decode()},
        {"Authorization": "Bearer dpt_something"},
        {"Authorization": "Digest username=x"},
    ],
)
def test_missing_or_malformed_credentials_get_401(client, provider, headers):
    response = introspect(client, headers)
    assert response.status_code == 401
    assert response.get_json() == UNAUTHORIZED
    assert response.headers["WWW-Authenticate"] == 'Basic realm="datapass"'


def test_wrong_credentials_get_401(client, db, provider):
    row, secret = provider
    for headers in (
        basic(row.client_id, secret + "x"),
        basic(row.client_id, ""),
        basic("dpc_nobody", secret),
    ):
        response = introspect(client, headers)
        assert response.status_code == 401 and response.get_json() == UNAUTHORIZED
        assert response.headers["WWW-Authenticate"] == 'Basic realm="datapass"'
    # A revoked client, or a developer application, may not introspect.
    tokens.revoke_client(row)
    assert introspect(client, basic(row.client_id, secret)).status_code == 401
    owner_app, app_secret = tokens.create_client("Connecteur", kind="developer")
    assert introspect(client, basic(owner_app.client_id, app_secret)).status_code == 401


def test_revoke_client_keeps_the_first_date(db, provider):
    row, _ = provider
    tokens.revoke_client(row)
    first = row.revoked_at
    assert first is not None
    tokens.revoke_client(row)
    assert row.revoked_at == first
