"""Signed webhooks: delivery with retries, attempt log, token_id, deactivation, SSRF.

The developers' pages are in ``tests/views/test_webhook_pages.py``.
"""

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
from datapass.services import decisions
from datapass.services import webhook_delivery as delivery
from tests.factories import UserFactory
from tests.support.authorization_requests import submitted_request
from tests.support.http import reload
from tests.support.webhooks import SECRET, attempts, make_webhook

LATER = timedelta(hours=7)


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


def test_approval_delivers_a_signed_payload_and_stores_the_token_id(app, db, httpserver, receiver):
    hook = receiver((200, {"token_id": "tok-42"}))
    webhook = make_webhook(httpserver, events=["approve"])
    with app.test_request_context():
        request = submitted_request()
        instructor = UserFactory(roles=["api_particulier:instructor"])
        decisions.decide(request, "approve", instructor, version=request.version)
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
    assert reload(request).external_provider_id == "tok-42"
    [attempt] = attempts(webhook)
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
    logged = attempts(webhook)
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
    [attempt] = attempts(webhook)
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
        decisions.approve(request, instructor, None)
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


# ---------------------------------------------------------------- payload, log, alerts (more)


def test_the_body_is_built_at_the_event_with_contacts_and_scopes(app, db, httpserver, receiver):
    hook = receiver((200, {}))
    make_webhook(httpserver, events=["submit", "approve"])
    with app.test_request_context():
        request = submitted_request()
        [job] = db.session.scalars(select(OutboxJob).where(OutboxJob.kind == "webhook")).all()
        # Stored when the event happened: a later change does not alter what is sent.
        event = next(e for e in request.events if e.name == "submit")
        assert job.idempotency_key == f"webhook-{job.payload['webhook_id']}-{event.id}"
        assert job.payload["event"] == "submit"
        assert job.payload["authorization_request_id"] == request.id
        request.data = {**request.data, "intitule": "Changé après coup"}
        _db.session.commit()
        outbox.drain()
    [call] = hook.calls
    body = call["json"]
    assert body["fired_at"] == int(event.created_at.timestamp())
    assert body["data"]["state"] == "submitted"
    assert body["data"]["data"]["intitule"] != "Changé après coup"
    assert isinstance(body["data"]["data"]["scopes"], list) and body["data"]["data"]["scopes"]
    contact_emails = [
        value for key, value in body["data"]["data"].items() if key.endswith("_email")
    ]
    assert any(email.endswith("@ccas-chaville.fr") for email in contact_emails)
    assert set(body["data"]) >= {
        "id",
        "public_id",
        "type",
        "state",
        "form_uid",
        "data",
        "created_at",
        "last_submitted_at",
        "last_validated_at",
        "organization",
        "applicant",
        "service_provider",
        "authorizations",
    }
    assert set(body["data"]["applicant"]) == {
        "id",
        "uid",
        "email",
        "given_name",
        "family_name",
        "phone_number",
        "job_title",
    }
    assert set(body["data"]["organization"]) == {"id", "name", "siret", "insee_payload"}


def test_response_excerpts_are_cut_at_10_000_characters(app, db, httpserver):
    httpserver.expect_request("/hook", method="POST").respond_with_data("x" * 12_000, status=502)
    webhook = make_webhook(httpserver, events=["submit"])
    with app.app_context():
        result = delivery.post(webhook, "{}", "d-1")
    assert result.status == 502 and len(result.excerpt) == 10_000
    with app.test_request_context():
        submitted_request()
        outbox.drain()
    [attempt] = attempts(webhook)
    # The test server is a local address: its answer is not kept in the log (no internal
    # reach), only its status.
    assert attempt.status_code == 502 and attempt.response_excerpt == ""
    assert webhook.consecutive_failures == 1 and webhook.first_failure_at is not None


def test_a_non_json_approval_answer_is_ignored(app, db, httpserver):
    httpserver.expect_request("/hook", method="POST").respond_with_data("OK", status=201)
    make_webhook(httpserver, events=["approve"])
    with app.test_request_context():
        request = submitted_request()
        instructor = UserFactory(roles=["api_particulier:instructor"])
        decisions.decide(request, "approve", instructor, version=request.version)
        outbox.drain()
    request = reload(request)
    assert request.state == "validated" and request.external_provider_id is None


def test_many_failures_within_a_day_do_not_deactivate(app, db, httpserver, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_MAX_CONSECUTIVE_FAILURES", 3)
    UserFactory(email="dev@editeur.fr", roles=["api_particulier:developer"])
    webhook = make_webhook(httpserver)
    with app.test_request_context():
        for _ in range(10):
            delivery.record(
                webhook,
                event="submit",
                request_id=None,
                body="{}",
                delivery_id="d",
                result=(None, 1, "", "ConnectionError"),
            )
        alerts = [j for j in _db.session.new if isinstance(j, OutboxJob)]
    assert webhook.enabled and webhook.consecutive_failures == 10
    [alert] = alerts  # only the 5th failure alerts
    assert alert.kind == "email" and alert.payload["to"] == ["dev@editeur.fr"]
    assert alert.payload["subject"] and alert.payload["text"]


def test_deactivation_emails_the_developers(app, db, httpserver, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_MAX_CONSECUTIVE_FAILURES", 20)
    UserFactory(email="dev@editeur.fr", roles=["api_particulier:developer"])
    webhook = make_webhook(httpserver)
    webhook.consecutive_failures = 19
    webhook.first_failure_at = utcnow() - timedelta(hours=24, minutes=1)
    _db.session.commit()
    with app.test_request_context():
        delivery.record(
            webhook,
            event="submit",
            request_id=None,
            body="{}",
            delivery_id="d",
            result=(500, 1, "", None),
        )
        [alert] = [j for j in _db.session.new if isinstance(j, OutboxJob)]
        _db.session.commit()
    assert not webhook.enabled and "désactivé" in alert.payload["subject"]
    # A disabled webhook gets no new event.
    with app.test_request_context():
        submitted_request()
    assert db.session.query(OutboxJob).filter_by(kind="webhook").count() == 0


def test_a_success_resets_the_failure_count(app, db, httpserver, receiver):
    receiver((200, {}))
    webhook = make_webhook(httpserver, events=["submit"])
    webhook.consecutive_failures = 7
    webhook.first_failure_at = utcnow() - timedelta(hours=2)
    _db.session.commit()
    with app.test_request_context():
        submitted_request()
        outbox.drain()
    webhook = reload(webhook)
    assert webhook.consecutive_failures == 0 and webhook.first_failure_at is None


@pytest.mark.parametrize(
    "url", ["https://exemple.fr:99999/hook", "https://" + "a" * 64 + ".exemple.fr/hook"]
)
def test_production_refuses_malformed_hosts_and_ports_with_a_message(app, monkeypatch, url):
    monkeypatch.setitem(app.config, "DATAPASS_ENV", "production")
    with app.app_context(), pytest.raises(delivery.WebhookUrlError):
        delivery.check_url(url)


def test_a_url_that_became_internal_is_refused_at_delivery(app, db, httpserver, monkeypatch):
    webhook = make_webhook(httpserver, events=["submit"])
    monkeypatch.setitem(app.config, "DATAPASS_ENV", "production")
    with app.app_context():
        result = delivery.post(webhook, "{}", "d-1")
    assert result.status is None and result.error.startswith("URL refusée")


def test_webhook_jobs_outlast_the_automatic_deactivation(app, db, httpserver):
    make_webhook(httpserver, events=["submit"])
    with app.test_request_context():
        submitted_request()
    job = db.session.scalar(select(OutboxJob).where(OutboxJob.kind == "webhook"))
    assert job.max_attempts == 30
