"""Pages around the outbox: the admins' job list, one-click unsubscribe, the dev mailbox."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from datapass import outbox
from datapass.extensions import db as _db
from datapass.models import InstructorNotificationSetting
from datapass.models.base import utcnow
from tests.factories import UserFactory
from tests.support.authorization_requests import submitted_request
from tests.support.http import post_form, reload
from tests.support.smtp import free_port

LATER = timedelta(hours=7)  # beyond any backoff of the first attempts


def test_a_job_becomes_dead_then_an_admin_replays_it(app, db, client, login_as, monkeypatch):
    job = outbox.enqueue(
        "email", {"key": "x", "to": ["a@b.fr"], "subject": "s", "text": "t"}, max_attempts=2
    )
    _db.session.commit()
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", free_port())
    outbox.drain()
    outbox.drain(now=utcnow() + LATER)
    assert job.state == "dead" and job.attempts == 2
    login_as(roles=["admin"])
    page = client.get("/admin/taches")
    assert page.status_code == 200 and f"Rejouer la tâche {job.id}" in page.text
    post_form(client, f"/admin/taches/{job.id}/rejouer", page=page)
    job = reload(job)
    assert job.state == "pending" and job.attempts == 0


def test_only_admins_see_the_jobs(client, db, login_as):
    login_as(roles=["api_particulier:instructor"])
    assert client.get("/admin/taches").status_code == 403


def test_instructors_are_notified_and_can_unsubscribe_in_one_click(app, db, client, smtp):
    instructor = UserFactory(roles=["api_particulier:instructor"])
    _db.session.commit()
    with app.test_request_context():
        submitted_request()
        outbox.drain()
    message = next(m for m in smtp.messages if str(m["To"]) == instructor.email)
    assert str(message["Subject"]).startswith("Nouvelle demande à instruire")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    body = message.get_body(preferencelist=("plain",)).get_content()
    link = re.search(r"http\S+/notifications/desabonnement/\S+", body).group(0)
    path = link.split("127.0.0.1:5000")[1]
    assert client.get(path).status_code == 200
    assert client.post(path).status_code == 200  # one click, as mail clients do (RFC 8058)
    setting = _db.session.scalar(
        select(InstructorNotificationSetting).where(
            InstructorNotificationSetting.user_id == instructor.id
        )
    )
    assert setting.notify_submissions is False
    smtp.messages.clear()
    with app.test_request_context():
        submitted_request()
        outbox.drain()
    assert instructor.email not in [str(m["To"]) for m in smtp.messages]
    assert client.get("/notifications/desabonnement/forged").status_code == 404


def test_without_smtp_the_dev_mailbox_keeps_emails(app, db, client, login_as, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_SERVER", "")
    with app.test_request_context():
        request = submitted_request()
        outbox.drain()
    mailbox = Path(app.config["INSTANCE_DIR"]) / "mailbox"
    assert any(mailbox.glob("*.eml"))
    login_as(roles=["admin"])
    page = client.get("/dev/courriels")
    assert page.status_code == 200 and f"D{request.id}" in page.text
    name = re.search(r"/dev/courriels/([\w-]+)", page.text).group(1)
    assert "L231-1" in client.get(f"/dev/courriels/{name}").text
