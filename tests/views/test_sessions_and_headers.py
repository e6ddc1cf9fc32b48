"""Sessions and headers: PKCE at sign-in, no cache for personal pages, production guards."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from config import ConfigurationError, load_config
from tests.support.authorization_requests import submitted_request
from tests.support.oidc import start_sign_in
from tests.unit.test_config import GOOD_PRODUCTION


def test_sign_in_uses_pkce_s256(client, db):
    query = parse_qs(urlsplit(start_sign_in(client)).query)
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["code_challenge"][0]) >= 43


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"SESSION_COOKIE_SECURE": "0"}, "SESSION_COOKIE_SECURE is off"),
        ({"AUTHLIB_INSECURE_TRANSPORT": "1"}, "AUTHLIB_INSECURE_TRANSPORT is set"),
    ],
)
def test_production_refuses_insecure_transport(change, message):
    with pytest.raises(ConfigurationError) as error:
        load_config({**GOOD_PRODUCTION, **change})
    assert message in str(error.value)


def test_personal_pages_are_never_cached(client, db, login_as):
    agent = login_as()
    authorization_request = submitted_request(agent, form_uid="api-particulier")
    for path in (
        f"/demandes/{authorization_request.id}",
        f"/demandes/{authorization_request.id}/etapes/projet",
        "/compte",
        "/tableau-de-bord",
    ):
        response = client.get(path)
        assert response.headers.get("Cache-Control") == "no-store", path
    login_as(roles=["api_particulier:instructor"])
    response = client.get(f"/instruction/demandes/{authorization_request.id}")
    assert response.headers.get("Cache-Control") == "no-store"


def test_public_pages_and_static_files_may_be_cached(client, db):
    assert "no-store" not in (client.get("/accessibilite").headers.get("Cache-Control") or "")
