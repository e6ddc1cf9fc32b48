"""Developers' webhooks: create, edit, test, enable, disable, rotate the secret, replay.

The rules: a webhook is created disabled, with a new secret (sealed; shown once) and a test
ping; any edit disables it and asks for a new successful test, a new URL being tested at
once; it is enabled only once validated (its last test succeeded), which clears its failure
counters. Delivery itself (the worker's signed POST, the attempt log, the automatic
deactivation) is ``services/webhook_delivery.py``.

Each function commits once. Test pings are outbox jobs (``webhook_ping``): the worker posts
them (``deliver_ping``) and logs the attempt; the web request never calls the URL.
"""

from __future__ import annotations

import hmac
import json
import secrets
from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import select

from datapass import crypto, outbox
from datapass.database import write_transaction
from datapass.errors import UserError
from datapass.extensions import db
from datapass.models import User
from datapass.models.outbox import OutboxJob
from datapass.models.webhook_endpoint import WEBHOOK_EVENTS, Webhook, WebhookAttempt
from datapass.services.webhook_delivery import (
    SUCCESS_CODES,
    logged_excerpt,
    post,
    signature,
    unseal,
)

ATTEMPTS_PAGE_SIZE = 50
PING_JOB = "webhook_ping"


class WebhookError(UserError):
    """A refused webhook action (enabling a webhook that was not tested successfully)."""


# ---------------------------------------------------------------- secrets


def new_secret() -> str:
    return secrets.token_hex(32)


def seal(secret: str) -> str:
    return crypto.seal(secret)


# ---------------------------------------------------------------- reading


def webhooks_of(definition_ids: Iterable[str]) -> list[Webhook]:
    """The webhooks of these definitions, oldest first."""
    return list(
        db.session.scalars(
            select(Webhook)
            .where(Webhook.definition_id.in_(list(definition_ids)))
            .order_by(Webhook.id)
        )
    )


def attempts_page(
    webhook: Webhook, *, before: int | None = None, size: int = ATTEMPTS_PAGE_SIZE
) -> tuple[list[WebhookAttempt], int | None]:
    """Newest attempts first, those older than the attempt ``before`` when given (keyset),
    and the ``before`` of the next page (None on the last one)."""
    query = select(WebhookAttempt).where(WebhookAttempt.webhook_id == webhook.id)
    if before:
        query = query.where(WebhookAttempt.id < before)
    rows = db.session.scalars(query.order_by(WebhookAttempt.id.desc()).limit(size + 1)).all()
    return list(rows[:size]), (rows[size - 1].id if len(rows) > size else None)


def sender_of(body: bytes, signature_header: str | None) -> Webhook | None:
    """The webhook whose secret signed ``body`` (``X-Hub-Signature-256``), if any: the
    development receiver accepts only DataPass's own deliveries."""
    if not signature_header or not signature_header.startswith("sha256="):
        return None
    for webhook in db.session.scalars(select(Webhook).order_by(Webhook.id)):
        if hmac.compare_digest(signature(unseal(webhook), body), signature_header):
            return webhook
    return None


def attempt_of(webhook: Webhook, attempt_id: int) -> WebhookAttempt | None:
    attempt = db.session.get(WebhookAttempt, attempt_id)
    return attempt if attempt is not None and attempt.webhook_id == webhook.id else None


# ---------------------------------------------------------------- changes


def _events(events: Iterable[str]) -> list[str]:
    """The known events among ``events``, in their canonical order."""
    chosen = set(events)
    return [event for event in WEBHOOK_EVENTS if event in chosen]


def _queue_ping(webhook: Webhook) -> OutboxJob:
    """Queue the signed test ping: the worker posts it (``deliver_ping``), never the web
    request. No commit."""
    body = json.dumps({"test": True, "timestamp": datetime.now(UTC).isoformat()})
    delivery_id = f"ping-{webhook.id}-{secrets.token_hex(6)}"
    # One attempt: a failed test is an answer for the developer, not something to retry.
    return outbox.enqueue(
        PING_JOB,
        {"webhook_id": webhook.id, "body": body, "delivery_id": delivery_id},
        key=delivery_id,
        max_attempts=1,
    )


def deliver_ping(job: OutboxJob) -> None:
    """The outbox handler of test pings: post, log the attempt; the webhook is validated
    when it succeeds, and disabled when it fails. Commits."""
    data = job.payload
    webhook = db.session.get(Webhook, data["webhook_id"])
    if webhook is None:
        return  # deleted since
    result = post(webhook, data["body"], data["delivery_id"])
    with write_transaction():  # after the call, a write transaction of its own (SQLite)
        webhook = db.session.get(Webhook, data["webhook_id"])
        if webhook is not None:
            _record_ping(webhook, data, result)


def _record_ping(webhook: Webhook, data: dict, result) -> None:
    attempt = WebhookAttempt(
        webhook_id=webhook.id,
        event="test",
        delivery_id=data["delivery_id"],
        body=data["body"],
        status_code=result.status,
        duration_ms=result.duration,
        response_excerpt=logged_excerpt(result),
        error=result.error,
        success=result.status in SUCCESS_CODES,
    )
    db.session.add(attempt)
    webhook.validated = attempt.success
    if not attempt.success:
        webhook.enabled = False


def create(
    *, definition_id: str, url: str, events: Iterable[str], created_by: User | None
) -> tuple[Webhook, str]:
    """A new, disabled webhook and its secret (to show once); its test ping is queued.
    Commits."""
    secret = new_secret()
    webhook = Webhook(
        definition_id=definition_id,
        url=url,
        events=_events(events),
        sealed_secret=seal(secret),
        created_by_id=created_by.id if created_by is not None else None,
    )
    db.session.add(webhook)
    db.session.flush()
    _queue_ping(webhook)
    db.session.commit()
    return webhook, secret


def edit(webhook: Webhook, *, definition_id: str, url: str, events: Iterable[str]) -> bool:
    """Any change disables the webhook until it is tested and enabled again; a new URL is
    tested at once (True: its ping is queued). Commits."""
    url_changed = url != webhook.url
    webhook.url = url
    webhook.definition_id = definition_id
    webhook.events = _events(events)
    webhook.enabled = False
    webhook.validated = False
    if url_changed:
        _queue_ping(webhook)
    db.session.commit()
    return url_changed


def ping(webhook: Webhook) -> OutboxJob:
    """Queue the signed test ping; the webhook is validated when it succeeds. Commits."""
    job = _queue_ping(webhook)
    db.session.commit()
    return job


def enable(webhook: Webhook) -> None:
    """Enable a validated webhook, its failure counters cleared. Commits."""
    if not webhook.validated:
        raise WebhookError("Testez le webhook avec succès avant de l’activer.")
    webhook.enabled = True
    webhook.consecutive_failures = 0
    webhook.first_failure_at = None
    webhook.disabled_reason = None
    db.session.commit()


def disable(webhook: Webhook) -> None:
    webhook.enabled = False
    db.session.commit()


def regenerate_secret(webhook: Webhook) -> str:
    """A new secret (to show once): the webhook is disabled and its test with the new secret
    queued. Commits."""
    secret = new_secret()
    webhook.sealed_secret = seal(secret)
    webhook.enabled = False
    webhook.validated = False
    _queue_ping(webhook)
    db.session.commit()
    return secret


def replay(attempt: WebhookAttempt) -> OutboxJob:
    """Send an attempt's body again, now, as a new delivery. Commits."""
    job = outbox.enqueue(
        "webhook",
        {
            "webhook_id": attempt.webhook_id,
            "event": attempt.event,
            "authorization_request_id": attempt.authorization_request_id,
            "body": attempt.body,
        },
    )
    db.session.commit()
    return job
