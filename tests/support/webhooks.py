"""Webhooks of the API providers, stored as the developers' pages would leave them."""

from __future__ import annotations

from sqlalchemy import select

from datapass.extensions import db
from datapass.models.webhook_endpoint import WEBHOOK_EVENTS, Webhook, WebhookAttempt
from datapass.services import webhooks

SECRET = "a" * 64


def make_webhook(
    httpserver, events=WEBHOOK_EVENTS, enabled=True, *, secret: str = SECRET, **attributes
) -> Webhook:
    """A validated webhook of api_particulier posting to ``/hook`` of ``httpserver``; commits.

    ``attributes`` override the others (e.g. failure counters)."""
    values = {
        "definition_id": "api_particulier",
        "url": httpserver.url_for("/hook"),
        "events": list(events),
        "sealed_secret": webhooks.seal(secret),
        "validated": True,
        "enabled": enabled,
    }
    webhook = Webhook(**{**values, **attributes})
    db.session.add(webhook)
    db.session.commit()
    return webhook


def attempts(webhook) -> list[WebhookAttempt]:
    """The webhook's attempt log as the database has it now, oldest first."""
    db.session.expire_all()
    return db.session.scalars(
        select(WebhookAttempt)
        .where(WebhookAttempt.webhook_id == webhook.id)
        .order_by(WebhookAttempt.id)
    ).all()
