"""Housekeeping, a periodic task: expired sessions, old delivered outbox rows, the
documents of expired invitations and, after ``INVITATION_RETENTION_DAYS``, what unclaimed
invitations held go."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, or_

from datapass.extensions import db
from datapass.models import OutboxJob, UserSession
from datapass.models.outbox import JOB_DONE
from datapass.services import invitation_answers


def clean_up(now: datetime) -> int:
    """Delete the sessions expired or revoked and the delivered outbox jobs older than
    ``OUTBOX_RETENTION_DAYS`` (pending and dead jobs stay); return how many rows went."""
    sessions = db.session.execute(
        delete(UserSession).where(
            or_(UserSession.expires_at < now, UserSession.revoked_at.is_not(None))
        )
    ).rowcount
    kept_since = now - timedelta(days=current_app.config["OUTBOX_RETENTION_DAYS"])
    jobs = db.session.execute(
        delete(OutboxJob).where(OutboxJob.state == JOB_DONE, OutboxJob.done_at < kept_since)
    ).rowcount
    db.session.commit()
    # Expired unclaimed invitations: their documents, later their answers (invitation_answers).
    return sessions + jobs + invitation_answers.purge_expired(now)
