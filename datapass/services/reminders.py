"""Reminders and archiving of requests left waiting, a daily periodic task (docs/lifecycle.md).

- A draft untouched for ``DRAFT_REMINDER_DAYS`` (15) gets one reminder (``draft_reminder``).
- Changes requested and unanswered: a reminder after ``CHANGES_FIRST_REMINDER_MONTHS`` (1)
  and ``CHANGES_SECOND_REMINDER_MONTHS`` (2) months (``changes_reminder``); after
  ``CHANGES_ARCHIVE_WARNING_MONTHS`` (3), a warning that it will be archived in
  ``ARCHIVE_WARNING_DAYS`` (15) days (``archive_warning``), then the archiving, through the
  workflow table with the ``system`` role, only if the request did not change since the
  warning (same version, no event of anyone since), never a reopening (the validated
  habilitation behind it stays), at most ``ARCHIVE_MAX_PER_RUN`` per run.

Each step is a timeline event (no user); the emails follow from it (``emails_for_event``).
The steps are counted from the last « modifications demandées »; a late run sends only the
latest step due, never three emails at once. Safe to run any number of times.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm.exc import StaleDataError

from datapass import workflow
from datapass.extensions import db
from datapass.models import AuthorizationRequest, AuthorizationRequestEvent

logger = logging.getLogger(__name__)

DRAFT_REMINDER = "draft_reminder"
CHANGES_REMINDER = "changes_reminder"
ARCHIVE_WARNING = "archive_warning"
# Events DataPass records by itself: they are no change of the request.
SYSTEM_EVENTS = (DRAFT_REMINDER, CHANGES_REMINDER, ARCHIVE_WARNING)


def run(now: datetime) -> int:
    """The periodic task: reminders, warnings, then archiving; how many steps were taken."""
    return remind_idle_drafts(now) + remind_unanswered_changes(now) + archive_unanswered(now)


def remind_idle_drafts(now: datetime) -> int:
    """One reminder per draft untouched for ``DRAFT_REMINDER_DAYS`` (once per draft, or per
    reopening). Commits."""
    idle_since = now - timedelta(days=current_app.config["DRAFT_REMINDER_DAYS"])
    already = (
        select(AuthorizationRequestEvent.id)
        .where(
            AuthorizationRequestEvent.authorization_request_id == AuthorizationRequest.id,
            AuthorizationRequestEvent.name == DRAFT_REMINDER,
            AuthorizationRequestEvent.created_at
            >= func.coalesce(AuthorizationRequest.reopened_at, AuthorizationRequest.created_at),
        )
        .exists()
    )
    drafts = db.session.scalars(
        select(AuthorizationRequest).where(
            AuthorizationRequest.state == workflow.DRAFT,
            AuthorizationRequest.updated_at < idle_since,
            ~already,
        )
    ).all()
    for authorization_request in drafts:
        authorization_request.record_event(
            DRAFT_REMINDER,
            actor=None,
            at=now,
            payload={"idle_days": current_app.config["DRAFT_REMINDER_DAYS"]},
        )
    db.session.commit()
    return len(drafts)


def _last_changes_requested():
    """(request id, time of its last « modifications demandées ») of every request."""
    return (
        select(
            AuthorizationRequestEvent.authorization_request_id.label("request_id"),
            func.max(AuthorizationRequestEvent.created_at).label("asked_at"),
        )
        .where(AuthorizationRequestEvent.name == "request_changes")
        .group_by(AuthorizationRequestEvent.authorization_request_id)
        .subquery()
    )


def _steps_taken(request_ids: list[int]) -> dict[int, list[AuthorizationRequestEvent]]:
    """The system events of these requests (one query)."""
    found: dict[int, list[AuthorizationRequestEvent]] = {}
    if not request_ids:
        return found
    for event in db.session.scalars(
        select(AuthorizationRequestEvent).where(
            AuthorizationRequestEvent.authorization_request_id.in_(request_ids),
            AuthorizationRequestEvent.name.in_((CHANGES_REMINDER, ARCHIVE_WARNING)),
        )
    ):
        found.setdefault(event.authorization_request_id, []).append(event)
    return found


def remind_unanswered_changes(now: datetime) -> int:
    """The latest step due of each request waiting for changes: first reminder, second
    reminder, or the warning before archiving (none for a reopening). Commits."""
    config = current_app.config
    thresholds = [
        (config["CHANGES_ARCHIVE_WARNING_MONTHS"], ARCHIVE_WARNING, None),
        (config["CHANGES_SECOND_REMINDER_MONTHS"], CHANGES_REMINDER, 2),
        (config["CHANGES_FIRST_REMINDER_MONTHS"], CHANGES_REMINDER, 1),
    ]
    earliest = min(months for months, _, _ in thresholds)
    asked = _last_changes_requested()
    rows = db.session.execute(
        select(AuthorizationRequest, asked.c.asked_at)
        .join(asked, asked.c.request_id == AuthorizationRequest.id)
        .where(
            AuthorizationRequest.state == workflow.CHANGES_REQUESTED,
            asked.c.asked_at <= workflow.add_months(now, -earliest),
        )
    ).all()
    taken = _steps_taken([row[0].id for row in rows])
    count = 0
    for authorization_request, asked_at in rows:
        done = {
            (event.name, (event.payload or {}).get("rank"))
            for event in taken.get(authorization_request.id, [])
            if event.created_at >= asked_at
        }
        for months, name, rank in thresholds:
            if workflow.add_months(asked_at, months) > now:
                continue
            if (name, rank) in done or (ARCHIVE_WARNING, None) in done:
                break  # this step (or a later one) was taken: nothing more now
            if name == ARCHIVE_WARNING and authorization_request.is_reopening:
                continue  # a reopening is never archived: a reminder instead
            payload = {"months": months, "asked_at": asked_at.isoformat()}
            if name == ARCHIVE_WARNING:
                archive_on = now + timedelta(days=config["ARCHIVE_WARNING_DAYS"])
                payload.update(
                    version=authorization_request.version,
                    days=config["ARCHIVE_WARNING_DAYS"],
                    archive_on=archive_on.isoformat(),
                )
            else:
                payload["rank"] = rank
            authorization_request.record_event(name, actor=None, at=now, payload=payload)
            count += 1
            break
    db.session.commit()
    return count


def archive_unanswered(now: datetime) -> int:
    """Archive the requests warned ``ARCHIVE_WARNING_DAYS`` ago that did not change since,
    oldest warning first, at most ``ARCHIVE_MAX_PER_RUN``; one commit each."""
    config = current_app.config
    warned_before = now - timedelta(days=config["ARCHIVE_WARNING_DAYS"])
    warnings = db.session.execute(
        select(AuthorizationRequest, AuthorizationRequestEvent)
        .join(
            AuthorizationRequestEvent,
            AuthorizationRequestEvent.authorization_request_id == AuthorizationRequest.id,
        )
        .where(
            AuthorizationRequest.state == workflow.CHANGES_REQUESTED,
            AuthorizationRequestEvent.name == ARCHIVE_WARNING,
            AuthorizationRequestEvent.created_at <= warned_before,
        )
        .order_by(AuthorizationRequestEvent.created_at, AuthorizationRequestEvent.id)
    ).all()
    archived = 0
    for authorization_request, warning in warnings:
        if archived >= config["ARCHIVE_MAX_PER_RUN"]:
            break
        if not _unchanged_since(authorization_request, warning):
            continue
        try:
            workflow.apply(
                authorization_request,
                "archive",
                actor=None,
                role=workflow.SYSTEM,
                now=now,
                payload={"automatic": True, "warning": warning.id},
            )
            db.session.commit()
        except (workflow.TransitionError, StaleDataError):
            # Reopened or answered meanwhile, or changed by someone at this very moment.
            db.session.rollback()
            logger.info("request %s not archived: it changed", authorization_request.id)
            continue
        archived += 1
    return archived


def _unchanged_since(
    authorization_request: AuthorizationRequest, warning: AuthorizationRequestEvent
) -> bool:
    """Same version as at the warning, and no one did anything since (it is the last event
    but DataPass's own, and no later « modifications demandées » restarted the count)."""
    if authorization_request.version != (warning.payload or {}).get("version"):
        return False
    return all(
        event.id <= warning.id or event.name in SYSTEM_EVENTS
        for event in authorization_request.events
    )
