"""Side effects wired explicitly: register_side_effects, the outbox's event hook, documents."""

from __future__ import annotations

import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import select
from sqlalchemy.orm import Session

from datapass import create_app, outbox
from datapass.extensions import db as _db
from datapass.models import OutboxJob
from datapass.models.outbox import JOB_DEAD, JOB_DONE, JOB_PENDING, JOB_STATES
from datapass.services import (
    deliberation_analysis,
    documents,
    emails,
    scanning,
    webhook_delivery,
    webhooks,
)
from tests.support.authorization_requests import submitted_request


def test_create_app_names_the_subscribers_and_handlers(app):
    side_effects = app.extensions["outbox"]
    assert side_effects.event_subscribers == (
        emails.emails_for_event,
        webhook_delivery.queue_for_event,
    )
    assert dict(side_effects.handlers) == {
        "email": emails.deliver,
        "webhook": webhook_delivery.deliver,
        "scan": scanning.deliver,
        "webhook_ping": webhooks.deliver_ping,
        "deliberation": deliberation_analysis.deliver,
    }
    assert sa_event.contains(Session, "after_flush", outbox._collect_new_events)
    assert sa_event.contains(Session, "after_commit", documents._run_pending_deletions)


def test_another_app_does_not_register_the_listeners_twice(app, db, tmp_path):
    create_app(environ={"INSTANCE_DIR": str(tmp_path), "DATAPASS_ENV": "test"})
    outbox.init_app(app, **_current(app))
    documents.register()
    with app.test_request_context():
        submitted_request()
    keys = [job.payload["key"] for job in db.session.scalars(select(OutboxJob))]
    assert keys == ["submission_ack"]


def _current(app) -> dict:
    side_effects = app.extensions["outbox"]
    return {
        "event_subscribers": side_effects.event_subscribers,
        "handlers": side_effects.handlers,
    }


@pytest.fixture
def recorded(app, monkeypatch):
    """The app's side effects replaced by a subscriber that records what it is given."""
    seen = []

    def subscriber(event):
        seen.append((event.name, event.id, _db.session.is_active))

    monkeypatch.setitem(app.extensions, "outbox", outbox.SideEffects((subscriber,), {}))
    return seen


def test_subscribers_get_each_new_event_after_its_flush(app, db, recorded):
    with app.test_request_context():
        request = submitted_request()
    names = [name for name, _, _ in recorded]
    assert names == [event.name for event in request.events]
    assert all(event_id is not None and active for _, event_id, active in recorded)
    # Nothing was queued: the subscribers are the app's, not the modules'.
    assert db.session.scalars(select(OutboxJob)).all() == []


def test_the_events_of_a_failed_flush_are_forgotten(app, db, recorded):
    from tests.factories import AuthorizationRequestFactory

    with app.test_request_context():
        request = AuthorizationRequestFactory()
        db.session.commit()
        request.record_event("update", actor=None)
        # Fails after the events were collected, before they are announced.
        sa_event.listen(Session, "after_flush", _fail, once=True)
        with pytest.raises(RuntimeError):
            db.session.flush()
        assert outbox._NEW_EVENTS not in db.session.info  # the flush's rollback forgot them
        db.session.rollback()
        db.session.commit()
    assert "update" not in [name for name, _, _ in recorded]


def _fail(session, flush_context):
    raise RuntimeError("a flush that fails")


def test_without_handlers_a_job_is_retried_then_dead(app, db, monkeypatch):
    monkeypatch.setitem(app.extensions, "outbox", outbox.SideEffects())
    with app.test_request_context():
        job = outbox.enqueue("email", {}, max_attempts=1)
        db.session.commit()
        outbox.drain()
    db.session.expire_all()
    assert job.state == JOB_DEAD and "no handler" in job.last_error


def test_job_states():
    assert JOB_STATES == (JOB_PENDING, JOB_DONE, JOB_DEAD) == ("pending", "done", "dead")
