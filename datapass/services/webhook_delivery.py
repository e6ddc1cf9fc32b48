"""Webhook delivery: the events of a definition's requests, posted signed to API providers.

Every new timeline event whose name is a webhook event queues, in the same transaction, one
outbox job per enabled webhook of the definition that listens to it, with the body built
at that moment. The worker posts the exact body with ``X-Hub-Signature-256`` (HMAC-SHA256
of the raw body with the webhook's secret), ``X-App-Environment`` and
``X-DataPass-Delivery`` (the job's idempotency key), logs each attempt, and retries through
the outbox on anything but 200, 201 or 204. See docs/webhooks.md. What developers do with
their webhooks (create, edit, test, enable…) is ``services/webhooks.py``.
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta
from typing import NamedTuple

import urllib3
from flask import current_app
from sqlalchemy import select

from datapass import crypto, outbound, outbox
from datapass.catalog import get_catalog
from datapass.database import write_transaction
from datapass.extensions import db
from datapass.models import AuthorizationRequest, AuthorizationRequestEvent, User, UserRole
from datapass.models.authorization import AUTHORIZATION_REVOKED
from datapass.models.base import utcnow
from datapass.models.outbox import OutboxJob
from datapass.models.webhook_endpoint import WEBHOOK_EVENTS, Webhook, WebhookAttempt
from datapass.outbound import UrlRefused

SUCCESS_CODES = (200, 201, 204)
EXCERPT_LIMIT = 10_000
FAILURE_EMAIL_AT = 5


# A refused webhook URL (scheme, port, internal address, malformed): ``outbound.UrlRefused``.
WebhookUrlError = UrlRefused


# ---------------------------------------------------------------- secrets and URLs


def unseal(webhook: Webhook) -> str:
    return crypto.unseal(webhook.sealed_secret)


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + crypto.hmac_sha256(secret, body)


def check_url(url: str) -> str:
    """The URL, or ``WebhookUrlError``: https only in production, ports 443, 80 and
    ``WEBHOOK_ALLOWED_PORTS``, no internal address (``datapass/outbound.py``)."""
    outbound.resolve(url, current_app.config)
    return (url or "").strip()


# ---------------------------------------------------------------- payload


def _iso(value):
    return value.isoformat() if value is not None else None


def payload(
    authorization_request: AuthorizationRequest, event_name: str, fired_at: datetime
) -> dict:
    catalog_form = get_catalog().form(authorization_request.form_uid)
    editor = catalog_form.editor if catalog_form else None
    organization = authorization_request.organization
    applicant = authorization_request.applicant
    return {
        "event": event_name,
        "fired_at": int(fired_at.timestamp()),
        "model_type": f"authorization_request/{authorization_request.definition_id}",
        "model_id": authorization_request.id,
        "data": {
            "id": authorization_request.id,
            "public_id": authorization_request.public_id,
            "type": f"authorization_request/{authorization_request.definition_id}",
            "state": authorization_request.state,
            "form_uid": authorization_request.form_uid,
            "data": authorization_request.data or {},
            "created_at": _iso(authorization_request.created_at),
            "last_submitted_at": _iso(authorization_request.last_submitted_at),
            "last_validated_at": _iso(authorization_request.last_validated_at),
            "organization": {
                "id": organization.id,
                "name": organization.name,
                "siret": organization.siret,
                "insee_payload": organization.insee_payload,
            },
            "applicant": {
                "id": applicant.id,
                "uid": applicant.sub,
                "email": applicant.email,
                "given_name": applicant.given_name,
                "family_name": applicant.family_name,
                "phone_number": applicant.phone_number,
                "job_title": applicant.job_title,
            },
            "service_provider": (
                {"id": editor.id, "siret": editor.siret, "type": "editor"} if editor else None
            ),
            "authorizations": [
                {
                    "id": authorization.id,
                    "slug": authorization.public_reference,
                    "revoked": authorization.state == AUTHORIZATION_REVOKED,
                    "state": authorization.state,
                    "created_at": _iso(authorization.created_at),
                    "data": authorization.data or {},
                    "authorization_request_class": (
                        f"AuthorizationRequest::{authorization_request.definition_id}"
                    ),
                    "definition_id": authorization.definition_id,
                }
                for authorization in authorization_request.authorizations
            ],
        },
    }


# ---------------------------------------------------------------- queueing from events


def queue_for_event(event: AuthorizationRequestEvent) -> None:
    """Outbox event subscriber: one job per enabled webhook of the definition listening to
    the event, its body built now (see ``datapass.register_side_effects``)."""
    authorization_request = event.request
    if event.name not in WEBHOOK_EVENTS or authorization_request is None:
        return
    hooks = db.session.scalars(
        select(Webhook).where(
            Webhook.definition_id == authorization_request.definition_id, Webhook.enabled.is_(True)
        )
    ).all()
    hooks = [hook for hook in hooks if event.name in (hook.events or [])]
    if not hooks:
        return
    body = json.dumps(
        payload(authorization_request, event.name, event.created_at or utcnow()), ensure_ascii=False
    )
    for hook in hooks:
        outbox.enqueue(
            "webhook",
            {
                "webhook_id": hook.id,
                "event": event.name,
                "authorization_request_id": authorization_request.id,
                "body": body,
            },
            key=f"webhook-{hook.id}-{event.id}",
            # Backoff capped at 6 h: 30 attempts span about four days, beyond the
            # automatic deactivation (consecutive failures over at least 24 h).
            max_attempts=30,
        )


# ---------------------------------------------------------------- delivery


class Result(NamedTuple):
    """One signed POST: ``internal`` when the target was a private address (development)."""

    status: int | None
    duration: int  # milliseconds
    excerpt: str
    error: str | None
    internal: bool = False


def post(webhook: Webhook, body: str, delivery_id: str) -> Result:
    """One signed POST to the webhook's URL, resolved once, to the address checked."""
    config = current_app.config
    try:
        # Again at each delivery: a domain may have been pointed at an internal address since.
        target = outbound.resolve(webhook.url, config)
    except UrlRefused as error:
        return Result(None, 0, "", f"URL refusée : {error.message}"[:255])
    raw = body.encode()
    headers = {
        "Content-Type": "application/json",
        "X-Hub-Signature-256": signature(unseal(webhook), raw),
        "X-App-Environment": config.get("APP_ENVIRONMENT_NAME") or config["DATAPASS_ENV"],
        "X-DataPass-Delivery": delivery_id,
        "User-Agent": "DataPass-Webhook/1.0",
    }
    started = time.monotonic()
    try:
        answer = outbound.post(
            target,
            raw,
            headers,
            timeout=float(config.get("WEBHOOK_TIMEOUT_SECONDS", 10)),
            ca_bundle=config.get("WEBHOOK_CA_BUNDLE", ""),
            limit=EXCERPT_LIMIT,
        )
    except (urllib3.exceptions.HTTPError, OSError) as error:
        duration = int((time.monotonic() - started) * 1000)
        return Result(None, duration, "", outbound.error_name(error), target.internal)
    duration = int((time.monotonic() - started) * 1000)
    return Result(answer.status, duration, answer.text, None, target.internal)


def logged_excerpt(result: Result) -> str:
    """What the attempt log keeps of the answer: nothing from an internal address, so that
    the log never becomes a way to read our own network's services."""
    return "" if result.internal else result.excerpt


def _developers(definition_id: str) -> list[str]:
    roles = [f"{definition_id}:developer"]
    return list(
        db.session.scalars(
            select(User.email)
            .join(UserRole, UserRole.user_id == User.id)
            .where(UserRole.role.in_(roles))
        )
    )


def _email_developers(webhook: Webhook, subject: str, text: str) -> None:
    to = _developers(webhook.definition_id)
    if to:
        outbox.enqueue(
            "email",
            {"key": "webhook_alert", "to": sorted(set(to)), "subject": subject, "text": text},
            key=f"webhook-alert-{webhook.id}-{webhook.consecutive_failures}-{utcnow():%Y%m%d%H%M}",
        )


def record(webhook: Webhook, *, event, request_id, body, delivery_id, result) -> WebhookAttempt:
    result = Result(*result)
    status, duration, error = result.status, result.duration, result.error
    excerpt = logged_excerpt(result)
    success = status in SUCCESS_CODES
    attempt = WebhookAttempt(
        webhook_id=webhook.id,
        authorization_request_id=request_id,
        event=event,
        delivery_id=delivery_id,
        body=body,
        status_code=status,
        duration_ms=duration,
        response_excerpt=excerpt,
        error=error,
        success=success,
    )
    db.session.add(attempt)
    now = utcnow()
    if success:
        webhook.consecutive_failures = 0
        webhook.first_failure_at = None
        return attempt
    webhook.consecutive_failures += 1
    webhook.first_failure_at = webhook.first_failure_at or now
    if webhook.consecutive_failures == FAILURE_EMAIL_AT:
        _email_developers(
            webhook,
            f"Le webhook {webhook.url} échoue",
            f"Les {FAILURE_EMAIL_AT} derniers appels du webhook {webhook.url} "
            f"({webhook.definition_id}) ont échoué. Consultez l’historique des appels sur "
            "DataPass (Développeurs, Webhooks) : les appels sont réessayés automatiquement.",
        )
    limit = int(current_app.config.get("WEBHOOK_MAX_CONSECUTIVE_FAILURES", 20))
    if (
        webhook.enabled
        and webhook.consecutive_failures >= limit
        and now - webhook.first_failure_at >= timedelta(hours=24)
    ):
        webhook.enabled = False
        webhook.disabled_reason = f"{webhook.consecutive_failures} échecs consécutifs"
        _email_developers(
            webhook,
            f"Le webhook {webhook.url} a été désactivé",
            f"Après {webhook.consecutive_failures} échecs consécutifs en plus de 24 heures, le "
            f"webhook {webhook.url} ({webhook.definition_id}) a été désactivé. Corrigez-le, "
            "testez-le puis réactivez-le sur DataPass (Développeurs, Webhooks).",
        )
    return attempt


def _store_token_id(request_id: int, excerpt: str) -> None:
    try:
        answer = json.loads(excerpt)
    except ValueError:
        return
    if isinstance(answer, dict) and answer.get("token_id") is not None:
        authorization_request = db.session.get(AuthorizationRequest, request_id)
        if authorization_request is not None:
            authorization_request.external_provider_id = str(answer["token_id"])[:255]


def deliver(job: OutboxJob) -> None:
    """The outbox handler of ``webhook`` jobs (see ``datapass.register_side_effects``)."""
    data = job.payload
    webhook = db.session.get(Webhook, data["webhook_id"])
    if webhook is None:
        return  # deleted since: nothing to deliver
    delivery_id = job.idempotency_key
    result = post(webhook, data["body"], delivery_id)
    # The attempt and counters are kept even when the outbox rolls the failure back. They
    # are written in a transaction that takes the write lock (SQLite): the one the delivery
    # read in did not, and may be stale after the call (database.write_intent).
    with write_transaction():
        webhook = db.session.get(Webhook, data["webhook_id"])
        if webhook is not None:
            record(
                webhook,
                event=data["event"],
                request_id=data.get("authorization_request_id"),
                body=data["body"],
                delivery_id=delivery_id,
                result=result,
            )
        if result[0] in SUCCESS_CODES and data["event"] == "approve":
            _store_token_id(data["authorization_request_id"], result[2])
    if result[0] not in SUCCESS_CODES:
        raise RuntimeError(f"webhook answered {result[0] or result[3]}")
