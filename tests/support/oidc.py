"""Drive the real authorization-code flow against the local identity provider."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import requests

# csrf_token moved to tests.support.http; still importable from here.
from tests.support.http import csrf_token as csrf_token
from tests.support.http import post_form


def start_sign_in(client, next_url: str | None = None) -> str:
    """Open the sign-in page, press the button; return the provider's authorize URL."""
    path = "/connexion" + (f"?{urlencode({'next': next_url})}" if next_url else "")
    page = client.get(path)
    assert page.status_code == 200
    response = post_form(client, "/connexion", page=page)
    assert response.status_code == 302, response.text
    return response.headers["Location"]


def tamper(url: str, **params) -> str:
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    for key, value in params.items():
        query[key] = [value]
    return urlunsplit(parts._replace(query=urlencode(query, doseq=True)))


def authorize(authorize_url: str, sub: str) -> str:
    """Submit the provider's consent page as ``sub``; return our callback URL."""
    response = requests.post(authorize_url, data={"sub": sub}, allow_redirects=False, timeout=10)
    assert response.status_code == 302, response.text
    return response.headers["Location"]


def follow_callback(client, callback_url: str):
    parts = urlsplit(callback_url)
    return client.get(f"{parts.path}?{parts.query}")


def sign_in(client, sub: str, next_url: str | None = None):
    """The whole flow; returns our callback's response."""
    return follow_callback(client, authorize(start_sign_in(client, next_url), sub))


def register_identity(idp_url: str, sub: str, claims: dict) -> None:
    """Add or replace a user on the local provider (its PUT /users/<sub> endpoint)."""
    response = requests.put(f"{idp_url}/users/{sub}", json=claims, timeout=10)
    assert response.status_code == 204, response.text
