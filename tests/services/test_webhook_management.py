"""The webhook management rules, called on the service directly (services/webhooks.py)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select
from werkzeug import Response

from datapass import outbox
from datapass.errors import UserError
from datapass.models import OutboxJob
from datapass.models.base import utcnow
from datapass.models.webhook_endpoint import EVENT_LABELS, WEBHOOK_EVENTS, WebhookAttempt
from datapass.services import webhooks
from datapass.services.webhook_delivery import unseal
from tests.factories import UserFactory
from tests.support.webhooks import attempts, make_webhook


def run_ping(webhook) -> WebhookAttempt:
    """The worker delivers the queued test ping: its attempt."""
    outbox.drain()
    return attempts(webhook)[-1]


class Receiver:
    def __init__(self, status=200):
        self.status = status
        self.bodies = []

    def __call__(self, request):
        self.bodies.append(json.loads(request.get_data()))
        return Response("{}", status=self.status, mimetype="application/json")


@pytest.fixture
def receiver(httpserver):
    handler = Receiver()
    httpserver.expect_request("/hook", method="POST").respond_with_handler(handler)
    return handler


@pytest.fixture
def webhook(app, db, httpserver):
    """An enabled, validated webhook that has been failing."""
    row = make_webhook(
        httpserver,
        events=["submit"],
        secret="c" * 64,
        consecutive_failures=3,
        first_failure_at=utcnow() - timedelta(hours=1),
    )
    return row


def test_every_webhook_event_has_a_label():
    assert tuple(EVENT_LABELS) == WEBHOOK_EVENTS


def test_create_seals_a_new_secret_and_pings_without_enabling(app, db, httpserver, receiver):
    developer = UserFactory(roles=["api_particulier:developer"])
    with app.test_request_context():
        webhook, secret = webhooks.create(
            definition_id="api_particulier",
            url=httpserver.url_for("/hook"),
            events=["approve", "nope", "submit"],
            created_by=developer,
        )
        assert unseal(webhook) == secret and secret not in webhook.sealed_secret
        # Nothing is posted by the request itself: the ping waits for the worker.
        assert receiver.bodies == [] and not webhook.validated
        attempt = run_ping(webhook)
    assert len(secret) == 64
    assert webhook.events == ["submit", "approve"]  # known ones, in their canonical order
    assert webhook.created_by_id == developer.id
    assert attempt.success and attempt.event == "test" and attempt.webhook_id == webhook.id
    db.session.expire_all()
    assert webhook.validated and not webhook.enabled
    assert [body["test"] for body in receiver.bodies] == [True]


def test_an_edit_disables_and_unvalidates_without_a_ping_when_the_url_stays(
    app, db, webhook, receiver
):
    with app.test_request_context():
        pinged = webhooks.edit(
            webhook, definition_id="api_particulier", url=webhook.url, events=["revoke"]
        )
        outbox.drain()
    db.session.expire_all()
    assert not pinged and receiver.bodies == []
    assert not webhook.enabled and not webhook.validated and webhook.events == ["revoke"]


def test_a_new_url_is_pinged_at_once(app, db, webhook, httpserver):
    httpserver.expect_request("/new", method="POST").respond_with_data("{}", status=204)
    with app.test_request_context():
        assert webhooks.edit(
            webhook,
            definition_id="api_particulier",
            url=httpserver.url_for("/new"),
            events=["submit"],
        )
        attempt = run_ping(webhook)
    db.session.expire_all()
    assert attempt.success and attempt.status_code == 204
    assert webhook.url.endswith("/new") and webhook.validated and not webhook.enabled


def test_enable_clears_the_failure_counters(app, db, webhook):
    webhook.enabled = False
    webhook.disabled_reason = "20 échecs consécutifs"
    db.session.commit()
    webhooks.enable(webhook)
    db.session.expire_all()
    assert webhook.enabled
    assert webhook.consecutive_failures == 0
    assert webhook.first_failure_at is None and webhook.disabled_reason is None


def test_enable_is_refused_until_a_test_succeeds(app, db, webhook, receiver):
    webhook.enabled = webhook.validated = False
    db.session.commit()
    with pytest.raises(webhooks.WebhookError) as refused:
        webhooks.enable(webhook)
    assert isinstance(refused.value, UserError)
    assert refused.value.message == "Testez le webhook avec succès avant de l’activer."
    db.session.expire_all()
    assert not webhook.enabled and webhook.consecutive_failures == 3
    with app.test_request_context():
        webhooks.ping(webhook)
        assert run_ping(webhook).success
    webhooks.enable(webhook)
    assert webhook.enabled


def test_a_failed_ping_disables(app, db, webhook, receiver):
    receiver.status = 500
    with app.test_request_context():
        webhooks.ping(webhook)
        attempt = run_ping(webhook)
    db.session.expire_all()
    assert not attempt.success and attempt.status_code == 500
    assert not webhook.validated and not webhook.enabled


def test_disable(app, db, webhook):
    webhooks.disable(webhook)
    db.session.expire_all()
    assert not webhook.enabled and webhook.validated


def test_a_new_secret_disables_and_is_tested(app, db, webhook, receiver):
    before = webhook.sealed_secret
    with app.test_request_context():
        secret = webhooks.regenerate_secret(webhook)
        assert unseal(webhook) == secret
        attempt = run_ping(webhook)
    db.session.expire_all()
    assert webhook.sealed_secret != before and len(secret) == 64
    assert attempt.success and webhook.validated and not webhook.enabled


def test_replay_and_the_attempts_pages(app, db, webhook):
    db.session.add_all(
        WebhookAttempt(
            webhook_id=webhook.id, event="submit", delivery_id=f"d-{i}", body=f'{{"n": {i}}}'
        )
        for i in range(5)
    )
    db.session.commit()
    first, before = webhooks.attempts_page(webhook, size=3)
    assert [a.body for a in first] == ['{"n": 4}', '{"n": 3}', '{"n": 2}'] and before
    second, last = webhooks.attempts_page(webhook, before=before, size=3)
    assert [a.body for a in second] == ['{"n": 1}', '{"n": 0}'] and last is None
    assert webhooks.attempt_of(webhook, first[0].id) is first[0]
    assert webhooks.attempt_of(webhook, 999_999) is None
    job = webhooks.replay(first[0])
    assert db.session.scalar(select(OutboxJob).where(OutboxJob.id == job.id)) is job
    assert job.kind == "webhook" and job.payload["body"] == '{"n": 4}'
    assert webhooks.webhooks_of(["api_particulier"]) == [webhook]
    assert webhooks.webhooks_of(["autre"]) == []
