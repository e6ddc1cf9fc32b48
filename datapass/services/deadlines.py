"""The weekly deadline digest, a periodic task: each instructor (and reporter) of a definition
gets the requests being instructed whose CRPA deadline falls within 7 days (or has passed),
unless they opted out (notification settings, or the one-click link of the email)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from datapass import workflow
from datapass.catalog import get_catalog
from datapass.extensions import db
from datapass.models import AuthorizationRequest
from datapass.services import emails
from datapass.services.instructor_settings import notification_recipients

DIGEST_DAYS = 7
DIGEST_KIND = "deadline_digest"


def due_requests(definition_id: str, now: datetime) -> list[AuthorizationRequest]:
    """The definition's requests being instructed due within ``DIGEST_DAYS``, nearest first."""
    return list(
        db.session.scalars(
            select(AuthorizationRequest)
            .where(
                AuthorizationRequest.definition_id == definition_id,
                AuthorizationRequest.state == workflow.SUBMITTED,
                AuthorizationRequest.decision_deadline <= now + timedelta(days=DIGEST_DAYS),
            )
            .order_by(AuthorizationRequest.decision_deadline, AuthorizationRequest.id)
        )
    )


def send_digest(now: datetime) -> int:
    """Queue the digests (one per recipient and definition with requests due); commit."""
    count = 0
    for definition_id, definition in get_catalog().definitions.items():
        due = due_requests(definition_id, now)
        if not due:
            continue
        items = [(item, emails.public_url(f"/instruction/demandes/{item.id}")) for item in due]
        for user in notification_recipients(definition_id, DIGEST_KIND):
            token = emails.unsubscribe_token(user.id, definition_id, DIGEST_KIND)
            unsubscribe = emails.public_url(f"/notifications/desabonnement/{token}")
            emails.queue(
                DIGEST_KIND,
                [user.email],
                {
                    "definition": definition,
                    "items": items,
                    "now": now,
                    "action_url": emails.public_url(
                        "/instruction/tableau-de-bord/demandes?tri=echeance"
                    ),
                    "action_label": "Voir les échéances",
                    "unsubscribe_url": unsubscribe,
                },
                event_id=f"{definition_id}-{now:%Y%m%dT%H%M%S}",
                headers={
                    "List-Unsubscribe": f"<{unsubscribe}>",
                    "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
                },
            )
            count += 1
    db.session.commit()
    return count
