"""Rate limits: each limited call answers 429 with Retry-After past its (small, in tests) limit.

The limits of the test configuration are in ``tests/conftest.py`` (``RATE_LIMITS``); the
counters are emptied before each test.
"""

from __future__ import annotations

import base64
import io

import pytest

from datapass.catalog import get_catalog
from datapass.services import tokens
from tests.api.conftest import bearer_for
from tests.conftest import RATE_LIMITS
from tests.support.http import post_form
from tests.support.webhooks import make_webhook
from tests.support.wizard import post_step, start

FORM_UID = "api-particulier-aides-sociales-ccas-dont-facultatives"


def allowed(name: str) -> int:
    return int(RATE_LIMITS[name].split()[0])


def basic(user: str, password: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def assert_json_429(response):
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    detail = response.get_json()["errors"][0]["detail"]
    assert detail.startswith("Trop de requêtes")


def assert_page_429(response):
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    assert response.mimetype == "text/html"
    assert "<title>Trop de requêtes" in response.text
    assert response.text.count("<title>") == 1


# ---------------------------------------------------------------- machine endpoints


def test_introspection_is_limited_per_client(client, db):
    first, first_secret = tokens.create_client("Fournisseur A")
    second, second_secret = tokens.create_client("Fournisseur B")
    db.session.commit()

    def introspect(row, secret):
        return client.post(
            "/api/oauth/introspect", data={"token": "dpt_x"}, headers=basic(row.client_id, secret)
        )

    for _ in range(allowed("RATELIMIT_INTROSPECTION")):
        assert introspect(first, first_secret).status_code == 200
    assert_json_429(introspect(first, first_secret))
    # Another client has its own counter.
    assert introspect(second, second_secret).status_code == 200


def test_legacy_introspection_is_limited_per_token(client, db):
    for _ in range(allowed("RATELIMIT_INTROSPECTION")):
        answer = client.get("/api/introspect", headers={"X-Api-Key": "jeton-a"})
        assert answer.status_code == 401
    assert_json_429(client.get("/api/introspect", headers={"X-Api-Key": "jeton-a"}))
    assert client.get("/api/introspect", headers={"X-Api-Key": "jeton-b"}).status_code == 401


def test_the_token_endpoint_is_limited_per_client(client, db):
    application, secret = tokens.create_client("Connecteur", kind="developer")
    db.session.commit()
    headers = basic(application.client_id, secret)
    data = {"grant_type": "client_credentials"}
    for _ in range(allowed("RATELIMIT_OAUTH_TOKEN")):
        assert client.post("/api/oauth/token", data=data, headers=headers).status_code == 200
    assert_json_429(client.post("/api/oauth/token", data=data, headers=headers))
    # Wrong credentials for another client id are counted apart.
    other = basic("autre-client", "x")
    assert client.post("/api/oauth/token", data=data, headers=other).status_code == 401


def test_drafts_created_through_the_api_are_limited_per_client(client, db):
    headers, _ = bearer_for(client)
    for _ in range(allowed("RATELIMIT_NEW_DRAFTS")):
        assert client.post("/api/v1/demandes", json={}, headers=headers).status_code == 400
    assert_json_429(client.post("/api/v1/demandes", json={}, headers=headers))


# ---------------------------------------------------------------- people


def test_the_sign_in_callback_is_limited_per_address(client, db):
    for _ in range(allowed("RATELIMIT_SIGN_IN")):
        assert client.get("/auth/proconnect/callback?code=x&state=y").status_code == 400
    assert_page_429(client.get("/auth/proconnect/callback?code=x&state=y"))
    other = {"REMOTE_ADDR": "192.0.2.10"}
    answer = client.get("/auth/proconnect/callback?code=x&state=y", environ_base=other)
    assert answer.status_code == 400


def test_webhook_tests_are_limited_per_user(client, db, login_as, httpserver):
    login_as(roles=["api_particulier:developer"])
    httpserver.expect_request("/hook").respond_with_data("ok")
    webhook = make_webhook(httpserver)
    page = client.get("/developpeurs/webhooks")
    url = f"/developpeurs/webhooks/{webhook.id}/tester"
    for _ in range(allowed("RATELIMIT_WEBHOOK_PINGS")):
        assert post_form(client, url, page=page).status_code == 302
    assert_page_429(post_form(client, url, page=page))
    # Pages that only show webhooks are not counted.
    assert client.get("/developpeurs/webhooks").status_code == 200

    login_as(roles=["api_particulier:developer"])
    assert post_form(client, url, page=client.get("/developpeurs/webhooks")).status_code == 302


def test_siret_lookups_are_limited_per_user(client, db, login_as):
    login_as()
    page = client.get("/compte/organisation")
    for _ in range(allowed("RATELIMIT_SIRENE_LOOKUPS")):
        answer = post_form(client, "/compte/organisation", {"siret": "123"}, page=page)
        assert answer.status_code == 200
    assert_page_429(post_form(client, "/compte/organisation", {"siret": "123"}, page=page))
    # Showing the form is not a look-up.
    assert client.get("/compte/organisation").status_code == 200


def pdf(number: int):
    return (io.BytesIO(b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\n%%EOF\n"), f"piece{number}.pdf")


def upload(client, request_id, count: int):
    return post_step(
        client,
        request_id,
        "cadre-juridique",
        {
            "cadre_juridique_nature": "Délibération du 12 octobre 2023",
            "cadre_juridique_document": [pdf(n) for n in range(count)],
        },
        action="save",
        content_type="multipart/form-data",
    )


def test_uploaded_files_are_counted_per_user_and_day(client, db, login_as):
    login_as()
    request_id = start(client, get_catalog().form(FORM_UID))
    limit = allowed("RATELIMIT_UPLOADS")
    assert upload(client, request_id, 6).status_code == 302
    # Counted even when refused for another reason (more than 6 files on the field).
    assert upload(client, request_id, limit - 6).status_code == 422
    assert_page_429(upload(client, request_id, 1))
    # A step saved without a file is not an upload.
    assert upload(client, request_id, 0).status_code == 302


def test_new_drafts_are_limited_per_user(client, db, login_as):
    login_as()
    form = get_catalog().form(FORM_UID)
    for _ in range(allowed("RATELIMIT_NEW_DRAFTS")):
        start(client, form)
    url = f"/formulaires/{FORM_UID}/demande/nouveau"
    assert_page_429(post_form(client, url))


@pytest.mark.parametrize("name", sorted(RATE_LIMITS))
def test_each_limit_comes_from_its_variable(app, name):
    assert app.config[name] == RATE_LIMITS[name]
