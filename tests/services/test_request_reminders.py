"""Reminders and archiving of requests left waiting (services/reminders.py), a periodic task."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from datapass import periodic, workflow
from datapass.models import OutboxJob
from datapass.models.base import utcnow
from datapass.services import authorization_requests, decisions, reminders
from tests.factories import UserFactory
from tests.support.authorization_requests import submitted_request
from tests.support.http import reload

pytestmark = pytest.mark.usefixtures("request_context")


def emails_to(db, request, key):
    return [
        job
        for job in db.session.scalars(select(OutboxJob).where(OutboxJob.kind == "email"))
        if job.payload.get("key") == key
        and job.payload.get("authorization_request_id") == request.id
    ]


def names(request):
    return [event.name for event in reload(request).events]


def changes_requested(instructor, applicant=None):
    request = submitted_request(applicant)
    decisions.decide(request, "request_changes", instructor, version=request.version, reason="?")
    return request, utcnow()


def month_after(moment, months, days=1):
    return workflow.add_months(moment, months) + timedelta(days=days)


def test_the_task_is_registered_with_its_hour(app):
    task = periodic.tasks()["request_reminders"]
    assert task.hour == app.config["REQUEST_REMINDERS_HOUR"] == 7
    assert app.config["DRAFT_REMINDER_DAYS"] == 15
    assert (
        app.config["CHANGES_FIRST_REMINDER_MONTHS"],
        app.config["CHANGES_SECOND_REMINDER_MONTHS"],
        app.config["CHANGES_ARCHIVE_WARNING_MONTHS"],
        app.config["ARCHIVE_WARNING_DAYS"],
    ) == (1, 2, 3, 15)


def test_an_idle_draft_gets_one_reminder(db):
    applicant = UserFactory()
    form = authorization_requests.get_catalog().form("api-particulier-ccas-arche-mc2")
    draft = authorization_requests.start_request_for_applicant(applicant, form)
    assert reminders.run(utcnow() + timedelta(days=14)) == 0
    assert reminders.run(utcnow() + timedelta(days=16)) == 1
    assert reminders.run(utcnow() + timedelta(days=60)) == 0  # once
    assert names(draft).count("draft_reminder") == 1
    [email] = emails_to(db, draft, "draft_reminder")
    assert email.payload["to"] == [applicant.email.lower()]
    assert "est toujours en brouillon" in email.payload["subject"]
    assert "depuis plus de 15 jours" in email.payload["text"]


def test_unanswered_changes_reminders_then_warning_then_archiving(db, instructor):
    request, asked = changes_requested(instructor)
    assert reminders.run(month_after(asked, 1, days=-1)) == 0
    assert reminders.run(month_after(asked, 1)) == 1
    assert reminders.run(month_after(asked, 1, days=2)) == 0
    assert reminders.run(month_after(asked, 2)) == 1
    warned_at = month_after(asked, 3)
    assert reminders.run(warned_at) == 1
    assert names(request)[-3:] == ["changes_reminder", "changes_reminder", "archive_warning"]
    [warning] = emails_to(db, request, "archive_warning")
    assert "sera archivée dans 15 jours" in warning.payload["subject"]
    assert len(emails_to(db, request, "changes_reminder")) == 2

    assert reminders.run(warned_at + timedelta(days=14)) == 0
    assert reload(request).state == workflow.CHANGES_REQUESTED
    assert reminders.run(warned_at + timedelta(days=15, hours=1)) == 1
    request = reload(request)
    assert request.state == workflow.ARCHIVED
    archive = request.events[-1]
    assert (archive.name, archive.user_id, archive.payload["automatic"]) == ("archive", None, True)
    assert len(emails_to(db, request, "archived_unanswered")) == 1
    assert reminders.run(warned_at + timedelta(days=40)) == 0


def test_a_late_run_sends_only_the_latest_step(db, instructor):
    request, asked = changes_requested(instructor)
    assert reminders.run(month_after(asked, 3)) == 1
    assert names(request).count("changes_reminder") == 0
    assert names(request)[-1] == "archive_warning"


def test_a_request_changed_after_the_warning_is_not_archived(db, instructor):
    request, asked = changes_requested(instructor)
    warned_at = month_after(asked, 3)
    assert reminders.run(warned_at) == 1
    form = authorization_requests.get_catalog().form(request.form_uid)
    authorization_requests.write_answers(request, form, {"intitule": "Toujours utile"})
    db.session.commit()
    assert reminders.run(warned_at + timedelta(days=16)) == 0
    assert reload(request).state == workflow.CHANGES_REQUESTED


def test_a_message_after_the_warning_keeps_the_request(db, instructor):
    from datapass.models.message import APPLICANT_SIDE
    from datapass.services import messaging

    request, asked = changes_requested(instructor)
    warned_at = month_after(asked, 3)
    reminders.run(warned_at)
    messaging.post_message(request, request.applicant, "J’y travaille", side=APPLICANT_SIDE)
    assert reminders.run(warned_at + timedelta(days=16)) == 0
    assert reload(request).state == workflow.CHANGES_REQUESTED


def test_a_reopening_is_reminded_but_never_warned_nor_archived(db, instructor):
    request = submitted_request()
    decisions.decide(request, "approve", instructor, version=request.version)
    authorization_requests.reopen_request(request, request.applicant)
    form = authorization_requests.get_catalog().form(request.form_uid)
    authorization_requests.write_answers(request, form, {"intitule": "Nouveau"})
    db.session.commit()
    from datapass.services import submission

    submission.submit_request(
        request, form, request.applicant, terms_accepted=True, dpo_informed=True
    )
    decisions.decide(request, "request_changes", instructor, version=request.version, reason="?")
    asked = utcnow()
    assert reminders.run(month_after(asked, 1)) == 1
    assert reminders.run(month_after(asked, 3)) == 1  # the second reminder, no warning
    assert reminders.run(month_after(asked, 6)) == 0
    request = reload(request)
    assert "archive_warning" not in names(request)
    assert request.state == workflow.CHANGES_REQUESTED and request.has_active_authorization


def test_at_most_n_archived_per_run(app, db, instructor, monkeypatch):
    first, asked = changes_requested(instructor)
    second, _ = changes_requested(instructor)
    warned_at = month_after(asked, 3)
    assert reminders.run(warned_at) == 2
    monkeypatch.setitem(app.config, "ARCHIVE_MAX_PER_RUN", 1)
    assert reminders.archive_unanswered(warned_at + timedelta(days=16)) == 1
    assert {reload(first).state, reload(second).state} == {
        workflow.ARCHIVED,
        workflow.CHANGES_REQUESTED,
    }
    assert reminders.archive_unanswered(warned_at + timedelta(days=16)) == 1
    assert reload(first).state == reload(second).state == workflow.ARCHIVED


def test_durations_are_configuration(app, db, instructor, monkeypatch):
    monkeypatch.setitem(app.config, "CHANGES_FIRST_REMINDER_MONTHS", 2)
    _, asked = changes_requested(instructor)
    assert reminders.run(month_after(asked, 1)) == 0
    assert reminders.run(month_after(asked, 2)) == 1


def test_the_system_role_archives_only_unanswered_changes():
    assert workflow.SYSTEM not in workflow.TRANSFER_ROLES
    rules = [rule for rule in workflow.TRANSITIONS["archive"] if workflow.SYSTEM in rule.roles]
    assert [(set(rule.from_states), rule.to) for rule in rules] == [
        ({workflow.CHANGES_REQUESTED}, workflow.ARCHIVED)
    ]


def test_the_steps_have_french_timeline_labels():
    assert {*reminders.SYSTEM_EVENTS, "purge"} <= set(workflow.EVENT_LABELS)
