"""Developers' webhook pages: every route for every role, secrets, tests, edits, attempt log."""

from __future__ import annotations

import hashlib
import hmac
import json
import re

import pytest
from sqlalchemy import func, select
from werkzeug import Response

from datapass import outbox
from datapass.models import OutboxJob
from datapass.models.webhook_endpoint import WEBHOOK_EVENTS, Webhook, WebhookAttempt
from datapass.services import webhook_delivery as delivery
from datapass.services import webhooks
from tests.support.oidc import csrf_token
from tests.support.webhooks import make_webhook

SECRET = "b" * 64
BASE = "/developpeurs/webhooks"


class Receiver:
    """A provider's endpoint that records the raw bodies and checks them against a secret."""

    def __init__(self, status=200):
        self.status = status
        self.secret = SECRET
        self.calls = []

    def __call__(self, request):
        body = request.get_data()
        expected = "sha256=" + hmac.new(self.secret.encode(), body, hashlib.sha256).hexdigest()
        self.calls.append(
            {
                "body": body,
                "valid": hmac.compare_digest(
                    expected, request.headers.get("X-Hub-Signature-256", "")
                ),
                "signature": request.headers.get("X-Hub-Signature-256", ""),
                "delivery": request.headers.get("X-DataPass-Delivery"),
            }
        )
        return Response("{}", status=self.status, mimetype="application/json")


@pytest.fixture
def receiver(httpserver):
    handler = Receiver()
    httpserver.expect_request("/hook", method="POST").respond_with_handler(handler)
    return handler


@pytest.fixture
def webhook(db, httpserver, receiver):
    row = make_webhook(httpserver, secret=SECRET)
    db.session.add(
        WebhookAttempt(
            webhook_id=row.id,
            event="submit",
            delivery_id="webhook-x-1",
            body='{"event": "submit"}',
            status_code=500,
            duration_ms=3,
            success=False,
        )
    )
    db.session.commit()
    return row


def token(client) -> str:
    """A CSRF token of the current session (the sign-out form of every signed-in page)."""
    page = client.get("/")
    if 'name="csrf_token"' not in page.text:
        page = client.get("/connexion")
    return csrf_token(page.text)


def first_attempt(db, webhook) -> WebhookAttempt:
    return db.session.scalar(
        select(WebhookAttempt)
        .where(WebhookAttempt.webhook_id == webhook.id)
        .order_by(WebhookAttempt.id)
    )


# ---------------------------------------------------------------- every route × every role

ROUTES = [
    # (method, path template, status for an allowed user)
    ("GET", "", 200),
    ("GET", "/nouveau", 200),
    ("POST", "/nouveau", 422),  # empty form: errors, nothing created
    ("GET", "/{id}/modifier", 200),
    ("POST", "/{id}/modifier", 422),
    ("POST", "/{id}/tester", 302),
    ("POST", "/{id}/activer", 302),
    ("POST", "/{id}/desactiver", 302),
    ("POST", "/{id}/secret", 200),
    ("GET", "/{id}/tentatives", 200),
    ("POST", "/{id}/tentatives/{attempt}/rejouer", 302),
]
ROLES = {
    "anonymous": None,
    "no role": [],
    "reporter": ["api_particulier:reporter"],
    "instructor": ["api_particulier:instructor"],
    "developer of another definition": ["autre:developer"],
    "developer": ["api_particulier:developer"],
    "admin": ["admin"],
}
ALLOWED = {"developer", "admin"}


@pytest.mark.parametrize(("method", "path", "allowed_status"), ROUTES)
@pytest.mark.parametrize("who", list(ROLES))
def test_every_page_needs_the_developer_role(
    client, db, login_as, webhook, who, method, path, allowed_status
):
    if ROLES[who] is not None:
        login_as(roles=ROLES[who])
    url = BASE + path.format(id=webhook.id, attempt=first_attempt(db, webhook).id)
    if method == "GET":
        response = client.get(url)
    else:
        response = client.post(url, data={"csrf_token": token(client)})
    if who == "anonymous":
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/connexion")
    elif who in ALLOWED:
        assert response.status_code == allowed_status
    else:
        assert response.status_code == 403


def test_unknown_webhooks_and_foreign_attempts_are_not_found(client, db, login_as, webhook):
    other = Webhook(
        definition_id="api_particulier",
        url="http://127.0.0.1:9/other",
        events=["submit"],
        sealed_secret=webhooks.seal(SECRET),
    )
    db.session.add(other)
    db.session.commit()
    login_as(roles=["api_particulier:developer"])
    csrf = token(client)
    assert client.get(f"{BASE}/999999/modifier").status_code == 404
    assert client.get(f"{BASE}/99999999999/tentatives").status_code == 404
    attempt = first_attempt(db, webhook)
    replay = client.post(
        f"{BASE}/{other.id}/tentatives/{attempt.id}/rejouer", data={"csrf_token": csrf}
    )
    assert replay.status_code == 404


def test_actions_need_the_csrf_token(client, db, login_as, webhook):
    login_as(roles=["api_particulier:developer"])
    assert client.post(f"{BASE}/{webhook.id}/desactiver").status_code == 400
    db.session.expire_all()
    assert webhook.enabled


def test_a_webhook_of_a_definition_outside_the_catalogue_is_hidden(client, db, login_as):
    stray = Webhook(
        definition_id="autre",
        url="https://autre.exemple.fr/hook",
        events=["submit"],
        sealed_secret=webhooks.seal(SECRET),
    )
    db.session.add(stray)
    db.session.commit()
    login_as(roles=["api_particulier:developer", "autre:developer"])
    assert "autre.exemple.fr" not in client.get(BASE).text
    assert client.get(f"{BASE}/{stray.id}/tentatives").status_code == 404


# ---------------------------------------------------------------- creation and the form


def test_a_single_definition_is_not_asked_for_but_an_admin_chooses(client, db, login_as):
    login_as(roles=["api_particulier:developer"])
    page = client.get(f"{BASE}/nouveau").text
    assert '<input type="hidden" name="definition" value="api_particulier">' in page
    assert all(f'value="{event}"' in page for event in WEBHOOK_EVENTS)


def test_creation_shows_the_secret_once_and_stores_it_encrypted(
    client, db, login_as, httpserver, receiver
):
    login_as(roles=["api_particulier:developer"])
    created = client.post(
        f"{BASE}/nouveau",
        data={
            "csrf_token": token(client),
            "url": httpserver.url_for("/hook"),
            "definition": "api_particulier",
            "events": ["approve"],
        },
    )
    assert created.status_code == 200 and created.headers["Cache-Control"] == "no-store"
    secret = created.text.split('id="webhook-secret" readonly value="')[1].split('"')[0]
    assert len(secret) == 64 and int(secret, 16) >= 0
    webhook = db.session.scalar(select(Webhook))
    assert secret not in webhook.sealed_secret and delivery.unseal(webhook) == secret
    # The page says the test is on its way; the request posted nothing itself.
    assert "L’appel de test part dans quelques secondes" in created.text
    assert receiver.calls == [] and not webhook.validated
    # The worker's test ping was signed with that secret and validated the webhook, not
    # enabled it.
    outbox.drain()
    db.session.expire_all()
    [ping] = receiver.calls
    expected = "sha256=" + hmac.new(secret.encode(), ping["body"], hashlib.sha256).hexdigest()
    assert hmac.compare_digest(expected, ping["signature"])
    assert json.loads(ping["body"])["test"] is True
    assert webhook.validated and not webhook.enabled
    # Never shown again.
    for page in (BASE, f"{BASE}/{webhook.id}/modifier", f"{BASE}/{webhook.id}/tentatives"):
        assert secret not in client.get(page).text


def test_the_test_ping_signature_matches_the_secret(client, db, login_as, httpserver):
    bodies = []

    def handler(request):
        bodies.append((request.get_data(), request.headers["X-Hub-Signature-256"]))
        return Response("", status=204)

    httpserver.expect_request("/signed", method="POST").respond_with_handler(handler)
    login_as(roles=["api_particulier:developer"])
    created = client.post(
        f"{BASE}/nouveau",
        data={
            "csrf_token": token(client),
            "url": httpserver.url_for("/signed"),
            "definition": "api_particulier",
            "events": ["submit"],
        },
    )
    secret = created.text.split('id="webhook-secret" readonly value="')[1].split('"')[0]
    outbox.drain()
    [(body, header)] = bodies
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(expected, header)
    ping = json.loads(body)
    assert set(ping) == {"test", "timestamp"} and "T" in ping["timestamp"]


def test_a_failed_creation_ping_leaves_the_webhook_unvalidated(
    client, db, login_as, httpserver, receiver
):
    receiver.status = 500
    login_as(roles=["api_particulier:developer"])
    client.post(
        f"{BASE}/nouveau",
        data={
            "csrf_token": token(client),
            "url": httpserver.url_for("/hook"),
            "definition": "api_particulier",
            "events": ["submit"],
        },
    )
    outbox.drain()
    db.session.expire_all()
    webhook = db.session.scalar(select(Webhook))
    page = client.get(f"{BASE}/{webhook.id}/tentatives").text
    assert "500" in page
    assert not webhook.validated and not webhook.enabled
    refused = client.post(f"{BASE}/{webhook.id}/activer", data={"csrf_token": token(client)})
    assert refused.status_code == 302
    db.session.expire_all()
    assert not webhook.enabled
    assert "Testez le webhook avec succès avant de l’activer." in client.get(BASE).text


def test_events_are_required_and_typed_input_is_kept(client, db, login_as):
    login_as(roles=["api_particulier:developer"])
    response = client.post(
        f"{BASE}/nouveau",
        data={"csrf_token": token(client), "url": "", "definition": "api_particulier"},
    )
    assert response.status_code == 422
    assert "Indiquez l’adresse du webhook." in response.text
    assert "Cochez au moins un événement." in response.text
    assert db.session.scalar(select(func.count(Webhook.id))) == 0


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://api.exemple.fr/hook", "En production, l’adresse doit commencer par https://."),
        ("http://10.0.0.1/hook", "En production, l’adresse doit commencer par https://."),
        ("https://10.0.0.1/hook", "réseau interne"),
        ("https://127.0.0.1/hook", "réseau interne"),
        ("https://[::1]/hook", "réseau interne"),
        ("https://169.254.169.254/latest/meta-data", "réseau interne"),
        ("https://192.168.1.10/hook", "réseau interne"),
        ("https://0.0.0.0/hook", "réseau interne"),
        ("https://[fe80::1]/hook", "réseau interne"),
        ("https://[::ffff:127.0.0.1]/hook", "réseau interne"),
        ("https://2130706433/hook", "réseau interne"),  # 127.0.0.1 as an integer
    ],
)
def test_production_refuses_plain_http_and_internal_addresses_next_to_the_field(
    app, client, db, login_as, monkeypatch, url, message
):
    monkeypatch.setitem(app.config, "DATAPASS_ENV", "production")
    login_as(roles=["api_particulier:developer"])
    response = client.post(
        f"{BASE}/nouveau",
        data={
            "csrf_token": token(client),
            "url": url,
            "definition": "api_particulier",
            "events": ["submit", "approve"],
        },
    )
    assert response.status_code == 422
    assert message in response.text
    assert f'value="{url}"' in response.text  # nothing typed is lost
    assert 'value="approve" checked' in response.text
    assert 'value="refuse" checked' not in response.text
    assert db.session.scalar(select(func.count(Webhook.id))) == 0


def test_development_accepts_a_local_http_receiver(app, db):
    with app.app_context():
        assert delivery.check_url(" http://127.0.0.1/hook ") == "http://127.0.0.1/hook"


# ---------------------------------------------------------------- edit, test, enable, secret


def test_an_events_edit_disables_without_a_ping(client, db, login_as, webhook, receiver):
    login_as(roles=["api_particulier:developer"])
    response = client.post(
        f"{BASE}/{webhook.id}/modifier",
        data={
            "csrf_token": token(client),
            "url": webhook.url,
            "definition": "api_particulier",
            "events": ["revoke"],
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert not webhook.enabled and not webhook.validated and webhook.events == ["revoke"]
    assert receiver.calls == []
    # Enabling needs a new successful test.
    client.post(f"{BASE}/{webhook.id}/activer", data={"csrf_token": token(client)})
    db.session.expire_all()
    assert not webhook.enabled
    client.post(f"{BASE}/{webhook.id}/tester", data={"csrf_token": token(client)})
    outbox.drain()
    db.session.expire_all()
    assert webhook.validated and len(receiver.calls) == 1 and receiver.calls[0]["valid"]
    client.post(f"{BASE}/{webhook.id}/activer", data={"csrf_token": token(client)})
    db.session.expire_all()
    assert webhook.enabled


def test_a_url_change_sends_a_test_ping_to_the_new_url(client, db, login_as, webhook, httpserver):
    received = []

    def handler(request):
        received.append(json.loads(request.get_data()))
        return Response("{}", status=200)

    httpserver.expect_request("/new", method="POST").respond_with_handler(handler)
    login_as(roles=["api_particulier:developer"])
    client.post(
        f"{BASE}/{webhook.id}/modifier",
        data={
            "csrf_token": token(client),
            "url": httpserver.url_for("/new"),
            "definition": "api_particulier",
            "events": list(WEBHOOK_EVENTS),
        },
    )
    assert received == []
    outbox.drain()
    db.session.expire_all()
    assert [call["test"] for call in received] == [True]
    assert webhook.url.endswith("/new") and webhook.validated and not webhook.enabled


def test_a_failing_manual_test_disables_an_enabled_webhook(client, db, login_as, webhook, receiver):
    receiver.status = 503
    login_as(roles=["api_particulier:developer"])
    client.post(f"{BASE}/{webhook.id}/tester", data={"csrf_token": token(client)})
    assert "L’appel de test part dans quelques secondes" in client.get(BASE).text
    db.session.expire_all()
    assert webhook.enabled and receiver.calls == []
    outbox.drain()
    db.session.expire_all()
    assert not webhook.validated and not webhook.enabled
    assert "À tester" in client.get(BASE).text


def test_disable_then_enable(client, db, login_as, webhook):
    login_as(roles=["admin"])
    client.post(f"{BASE}/{webhook.id}/desactiver", data={"csrf_token": token(client)})
    db.session.expire_all()
    assert not webhook.enabled
    client.post(f"{BASE}/{webhook.id}/activer", data={"csrf_token": token(client)})
    db.session.expire_all()
    assert webhook.enabled


def test_a_new_secret_is_shown_once_encrypted_and_needs_a_new_test(
    client, db, login_as, webhook, receiver
):
    login_as(roles=["api_particulier:developer"])
    response = client.post(f"{BASE}/{webhook.id}/secret", data={"csrf_token": token(client)})
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    secret = response.text.split('id="webhook-secret" readonly value="')[1].split('"')[0]
    assert len(secret) == 64 and secret != SECRET
    db.session.expire_all()
    assert delivery.unseal(webhook) == secret and secret not in webhook.sealed_secret
    assert not webhook.enabled
    # The ping that followed was signed with the new secret: the old one no longer matches.
    outbox.drain()
    [ping] = receiver.calls
    assert not ping["valid"]  # checked against the old secret
    expected = "sha256=" + hmac.new(secret.encode(), ping["body"], hashlib.sha256).hexdigest()
    assert hmac.compare_digest(expected, ping["signature"])
    assert secret not in client.get(BASE).text


# ---------------------------------------------------------------- attempt log and replay


def test_the_attempt_log_is_newest_first_and_paginated(client, db, login_as, webhook):
    db.session.add_all(
        WebhookAttempt(
            webhook_id=webhook.id,
            event="approve",
            delivery_id=f"d-{index}",
            body="{}",
            status_code=200,
            duration_ms=index,
            response_excerpt=f"reponse-{index:03d}",
            success=True,
        )
        for index in range(60)
    )
    db.session.commit()
    login_as(roles=["api_particulier:developer"])
    first = client.get(f"{BASE}/{webhook.id}/tentatives").text
    assert first.index("reponse-059") < first.index("reponse-058")
    assert "reponse-010" in first and "reponse-009" not in first
    match = re.search(r'href="([^"]*avant=\d+)">Appels plus anciens', first)
    assert match
    second = client.get(match.group(1).replace("&amp;", "&")).text
    assert "reponse-009" in second and "reponse-000" in second and "reponse-010" not in second
    assert "Appels plus anciens" not in second


def test_replay_sends_the_same_body_again(app, client, db, login_as, webhook, receiver):
    login_as(roles=["api_particulier:developer"])
    attempt = first_attempt(db, webhook)
    response = client.post(
        f"{BASE}/{webhook.id}/tentatives/{attempt.id}/rejouer", data={"csrf_token": token(client)}
    )
    assert response.status_code == 302
    job = db.session.scalar(select(OutboxJob).where(OutboxJob.kind == "webhook"))
    assert job.payload["body"] == attempt.body and job.payload["event"] == "submit"
    with app.test_request_context():
        outbox.drain()
    [call] = receiver.calls
    assert call["body"] == attempt.body.encode() and call["valid"]
    log = client.get(f"{BASE}/{webhook.id}/tentatives").text
    assert "200 (succès)" in log


# ---------------------------------------------------------------- applications


def test_an_application_is_created_with_its_scopes_and_revoked_by_its_owner(client, db, login_as):
    from datapass.models import ApiClient

    owner = login_as(roles=["api_particulier:developer"])
    created = client.post(
        "/developpeurs/applications",
        data={
            "csrf_token": token(client),
            "name": "Connecteur",
            "scopes": ["read_authorizations", "read_webhooks"],
        },
    )
    assert created.status_code == 200
    application = db.session.scalar(select(ApiClient).where(ApiClient.owner_id == owner.id))
    assert application.kind == "developer"
    assert application.scopes == ["read_authorizations", "read_webhooks"]
    url = f"/developpeurs/applications/{application.id}/revoquer"
    assert client.post(url).status_code == 400  # no CSRF token
    response = client.post(url, data={"csrf_token": token(client)})
    assert response.status_code == 302
    assert response.headers["Location"] == "/developpeurs/applications"
    db.session.expire_all()
    assert application.revoked_at is not None
    assert (
        "L’application « Connecteur » est révoquée."
        in client.get(response.headers["Location"]).text
    )


def test_another_developers_application_is_not_found(client, db, login_as):
    from datapass.services import tokens as token_service
    from tests.factories import UserFactory

    other = UserFactory(roles=["api_particulier:developer"])
    application, _ = token_service.create_client("Autre", kind="developer", owner=other)
    login_as(roles=["api_particulier:developer"])
    url = f"/developpeurs/applications/{application.id}/revoquer"
    assert client.post(url, data={"csrf_token": token(client)}).status_code == 404
    db.session.expire_all()
    assert application.revoked_at is None


def test_the_developers_tab_is_current_on_every_developers_page(client, db, login_as, webhook):
    login_as(roles=["api_particulier:developer"])
    for path in ("/developpeurs/applications", BASE, f"{BASE}/{webhook.id}/tentatives"):
        page = client.get(path).text
        assert 'href="/developpeurs/applications" aria-current="page">Développeurs' in page
    login_as(roles=["api_particulier:instructor"])
    assert "Développeurs</a>" not in client.get("/").text
