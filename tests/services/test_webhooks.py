"""Signed webhooks: delivery with retries, attempt log, token_id, deactivation, SSRF, pages."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import timedelta

import pytest
from sqlalchemy import select
from werkzeug import Response

from datapass import outbox
from datapass.extensions import db as _db
from datapass.models import OutboxJob
from datapass.models.base import utcnow
from datapass.models.webhook_endpoint import WEBHOOK_EVENTS, Webhook, WebhookAttempt
from datapass.services import instruction
from datapass.services import webhook_delivery as delivery
from tests.factories import UserFactory
from tests.support.oidc import csrf_token
from tests.support.requests import submitted_request

LATER = timedelta(hours=7)
SECRET = "a" * 64


class Receiver:
    """An API provider's endpoint: checks the signature of the raw body, answers in turn."""

    def __init__(self, answers):
        self.answers = list(answers)
        self.calls = []

    def __call__(self, request):
        body = request.get_data()
        expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        valid = hmac.compare_digest(expected, request.headers.get("X-Hub-Signature-256", ""))
        self.calls.append(
            {
                "valid": valid,
                "json": json.loads(body),
                "delivery": request.headers.get("X-DataPass-Delivery"),
                "environment": request.headers.get("X-App-Environment"),
            }
        )
        if not valid:
            return Response("bad signature", status=401)
        status, answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        return Response(json.dumps(answer), status=status, mimetype="application/json")


@pytest.fixture
def receiver(httpserver):
    def install(*answers):
        handler = Receiver(answers or [(200, {})])
        httpserver.expect_request("/hook", method="POST").respond_with_handler(handler)
        return handler

    return install


def make_webhook(httpserver, events=WEBHOOK_EVENTS, enabled=True):
    webhook = Webhook(
        definition_id="api_particulier",
        url=httpserver.url_for("/hook"),
        events=list(events),
        sealed_secret=delivery.seal(SECRET),
        validated=True,
        enabled=enabled,
    )
    _db.session.add(webhook)
    _db.session.commit()
    return webhook


def attempts(db, webhook):
    db.session.expire_all()
    return db.session.scalars(
        select(WebhookAttempt)
        .where(WebhookAttempt.webhook_id == webhook.id)
        .order_by(WebhookAttempt.id)
    ).all()


def test_approval_delivers_a_signed_payload_and_stores_the_token_id(app, db, httpserver, receiver):
    hook = receiver((200, {"token_id": "tok-42"}))
    webhook = make_webhook(httpserver, events=["approve"])
    with app.test_request_context():
        request = submitted_request()
        instructor = UserFactory(roles=["api_particulier:instructor"])
        instruction.decide(request, "approve", instructor, version=request.version)
        outbox.drain()
    [call] = hook.calls
    assert call["valid"] and call["environment"] == "test"
    body = call["json"]
    assert (
        body["event"] == "approve" and body["model_type"] == "authorization_request/api_particulier"
    )
    assert body["model_id"] == request.id and isinstance(body["fired_at"], int)
    data = body["data"]
    assert (
        data["state"] == "validated" and data["organization"]["siret"] == request.organization.siret
    )
    assert data["applicant"]["email"] == request.applicant.email
    assert data["service_provider"] == {
        "id": "arche_mc2",
        "siret": "38251931200088",
        "type": "editor",
    }
    assert data["authorizations"][0]["slug"].startswith("H")
    assert data["data"]["scopes"] == request.data["scopes"]
    assert call["delivery"] == f"webhook-{webhook.id}-{request.events[-1].id}"
    db.session.expire_all()
    assert request.external_provider_id == "tok-42"
    [attempt] = attempts(db, webhook)
    assert attempt.success and attempt.status_code == 200


def test_500_three_times_then_200_is_delivered_with_four_attempts(app, db, httpserver, receiver):
    hook = receiver((500, {}), (500, {}), (500, {}), (200, {}))
    webhook = make_webhook(httpserver, events=["submit"])
    with app.test_request_context():
        submitted_request()
        now = utcnow()
        for round_ in range(4):
            outbox.drain(now=now + LATER * round_)
    assert len(hook.calls) == 4 and all(call["valid"] for call in hook.calls)
    assert len({call["delivery"] for call in hook.calls}) == 1  # the same delivery, retried
    logged = attempts(db, webhook)
    assert [a.status_code for a in logged] == [500, 500, 500, 200]
    job = db.session.scalar(select(OutboxJob).where(OutboxJob.kind == "webhook"))
    assert job.state == "done" and job.attempts == 4
    assert webhook.consecutive_failures == 0


def test_a_receiver_timing_out_is_retried(app, db, httpserver, monkeypatch):
    import time

    def slow(request):
        time.sleep(0.5)
        return Response("{}", status=200)

    httpserver.expect_request("/hook", method="POST").respond_with_handler(slow)
    monkeypatch.setitem(app.config, "WEBHOOK_TIMEOUT_SECONDS", 0.1)
    webhook = make_webhook(httpserver, events=["submit"])
    with app.test_request_context():
        submitted_request()
        outbox.drain()
    [attempt] = attempts(db, webhook)
    assert attempt.status_code is None and attempt.error == "ReadTimeout"
    job = db.session.scalar(select(OutboxJob).where(OutboxJob.kind == "webhook"))
    assert job.state == "pending" and job.attempts == 1


def test_a_rolled_back_approval_queues_no_webhook(app, db, httpserver):
    make_webhook(httpserver)
    with app.test_request_context():
        request = submitted_request()
        before = db.session.query(OutboxJob).filter_by(kind="webhook").count()
        instructor = UserFactory(roles=["api_particulier:instructor"])
        _db.session.commit()
        nested = _db.session.begin_nested()
        instruction._approve(request, instructor, None)
        _db.session.flush()
        nested.rollback()
        _db.session.expire_all()
        assert db.session.query(OutboxJob).filter_by(kind="webhook").count() == before


def test_disabled_webhooks_and_unsubscribed_events_get_nothing(app, db, httpserver):
    make_webhook(httpserver, enabled=False)
    make_webhook(httpserver, events=["approve"])
    with app.test_request_context():
        submitted_request()
    assert db.session.query(OutboxJob).filter_by(kind="webhook").count() == 0


def test_fifth_failure_emails_developers_and_a_long_outage_deactivates(
    app, db, httpserver, receiver, monkeypatch
):
    receiver((500, {}))
    monkeypatch.setitem(app.config, "WEBHOOK_MAX_CONSECUTIVE_FAILURES", 6)
    UserFactory(email="dev@editeur.fr", roles=["api_particulier:developer"])
    webhook = make_webhook(httpserver)
    webhook.first_failure_at = None
    _db.session.commit()
    with app.test_request_context():
        for _ in range(5):
            delivery.record(
                webhook,
                event="submit",
                request_id=None,
                body="{}",
                delivery_id="d",
                result=(500, 1, "", None),
            )
        alerts = [j for j in _db.session.new if isinstance(j, OutboxJob)]
        assert len(alerts) == 1 and alerts[0].payload["to"] == ["dev@editeur.fr"]
        webhook.first_failure_at = utcnow() - timedelta(hours=25)
        delivery.record(
            webhook,
            event="submit",
            request_id=None,
            body="{}",
            delivery_id="d",
            result=(500, 1, "", None),
        )
    assert webhook.enabled is False and "échecs" in webhook.disabled_reason


@pytest.mark.parametrize(
    "url",
    [
        "http://api.exemple.fr/hook",
        "https://10.0.0.1/hook",
        "https://127.0.0.1/hook",
        "https://[::1]/hook",
        "https://169.254.169.254/latest",
        "ftp://exemple.fr/x",
    ],
)
def test_production_refuses_internal_or_plain_http_urls(app, monkeypatch, url):
    monkeypatch.setitem(app.config, "DATAPASS_ENV", "production")
    with app.app_context(), pytest.raises(delivery.WebhookUrlError):
        delivery.check_url(url)


# ---------------------------------------------------------------- pages


def test_developer_creates_tests_enables_a_webhook_and_reads_attempts(
    app, client, db, httpserver, login_as
):
    received = []

    def handler(request):
        received.append(json.loads(request.get_data()))
        return Response("{}", status=200)

    httpserver.expect_request("/hook", method="POST").respond_with_handler(handler)
    login_as(roles=["api_particulier:developer"])
    page = client.get("/developpeurs/webhooks/nouveau")
    assert page.status_code == 200
    created = client.post(
        "/developpeurs/webhooks/nouveau",
        data={
            "csrf_token": csrf_token(page.text),
            "url": httpserver.url_for("/hook"),
            "definition": "api_particulier",
            "events": ["submit", "approve"],
        },
    )
    assert created.status_code == 200 and created.headers["Cache-Control"] == "no-store"
    secret = created.text.split('id="webhook-secret" readonly value="')[1].split('"')[0]
    assert len(secret) == 64
    assert received and received[0]["test"] is True
    webhook = db.session.scalar(select(Webhook))
    assert webhook.validated and not webhook.enabled and secret not in webhook.sealed_secret
    client.post(
        f"/developpeurs/webhooks/{webhook.id}/activer", data={"csrf_token": csrf_token(page.text)}
    )
    db.session.expire_all()
    assert webhook.enabled
    log = client.get(f"/developpeurs/webhooks/{webhook.id}/tentatives")
    assert log.status_code == 200 and "test" in log.text
    [attempt] = attempts(db, webhook)
    client.post(
        f"/developpeurs/webhooks/{webhook.id}/tentatives/{attempt.id}/rejouer",
        data={"csrf_token": csrf_token(page.text)},
    )
    with app.test_request_context():
        outbox.drain()
    assert len(received) == 2
    # Editing disables until a new test.
    client.post(
        f"/developpeurs/webhooks/{webhook.id}/modifier",
        data={
            "csrf_token": csrf_token(page.text),
            "url": httpserver.url_for("/hook"),
            "definition": "api_particulier",
            "events": ["submit"],
        },
    )
    db.session.expire_all()
    assert not webhook.enabled and webhook.events == ["submit"]


def test_webhook_form_errors_keep_input(client, db, login_as):
    login_as(roles=["api_particulier:developer"])
    page = client.get("/developpeurs/webhooks/nouveau")
    response = client.post(
        "/developpeurs/webhooks/nouveau",
        data={
            "csrf_token": csrf_token(page.text),
            "url": "pas une url",
            "definition": "api_particulier",
        },
    )
    assert response.status_code == 422
    assert (
        "Cochez au moins un événement." in response.text and 'value="pas une url"' in response.text
    )


@pytest.mark.parametrize(
    ("roles", "status"),
    [
        ((), 403),
        (("api_particulier:reporter",), 403),
        (("autre:developer",), 403),
        (("api_particulier:developer",), 200),
        (("admin",), 200),
    ],
)
def test_webhook_pages_need_the_developer_role(client, db, login_as, roles, status):
    login_as(roles=list(roles))
    assert client.get("/developpeurs/webhooks").status_code == status


def test_another_definitions_developer_cannot_touch_a_webhook(client, db, httpserver, login_as):
    webhook = make_webhook(httpserver)
    login_as(roles=["api_particulier:developer"])
    assert client.get(f"/developpeurs/webhooks/{webhook.id}/tentatives").status_code == 200
    login_as(roles=["autre:developer", "api_particulier:reporter"])
    assert client.get(f"/developpeurs/webhooks/{webhook.id}/tentatives").status_code == 403


def test_the_development_receiver_answers_a_token_id(app, client, db):
    response = client.post(
        "/dev/webhooks/recepteur",
        data=b'{"test": true}',
        headers={"X-DataPass-Delivery": "ping-1", "Content-Type": "application/json"},
    )
    assert response.status_code == 200 and response.get_json() == {"token_id": "dev-ping-1"}
