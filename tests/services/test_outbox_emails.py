"""The outbox and the emails: real SMTP server, retries, leases, rollbacks.

The pages (jobs, unsubscribe, dev mailbox) are in ``tests/views/test_outbox_pages.py``.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text

from datapass import outbox, workflow
from datapass.extensions import db as _db
from datapass.models import OutboxJob
from datapass.models.base import utcnow
from datapass.models.message import APPLICANT_SIDE, INSTRUCTOR_SIDE
from datapass.services import (
    authorization_requests,
    contact_updates,
    deadlines,
    decisions,
    emails,
    messaging,
    reminders,
    submission,
    transfers,
    users,
)
from tests.factories import UserFactory
from tests.support.authorization_requests import submitted_request
from tests.support.smtp import SmtpServer, free_port

LATER = timedelta(hours=7)  # beyond any backoff of the first attempts


def email_jobs(db, key=None):
    jobs = db.session.scalars(select(OutboxJob).where(OutboxJob.kind == "email")).all()
    return [job for job in jobs if key is None or job.payload["key"] == key]


def test_submission_sends_an_acknowledgement_with_the_legal_mentions(app, db, smtp):
    with app.test_request_context():
        request = submitted_request()
        assert [job.payload["key"] for job in email_jobs(db)] == ["submission_ack"]
        assert outbox.drain() == 1
    [message] = smtp.messages
    assert message["To"] == request.applicant.email
    assert message["Subject"] == (
        f"Accusé de réception de votre demande d’habilitation D{request.id}\u00a0: "
        "Aides sociales facultatives"
    )
    body = message.get_body(preferencelist=("plain",)).get_content()
    assert "L231-1" in body and "L231-4" in body and "tribunal administratif de Paris" in body
    assert "R421-1" in body
    html = message.get_body(preferencelist=("html",)).get_content()
    assert '<html lang="fr">' in html and f"/demandes/{request.id}" in html
    assert message["X-DataPass-Delivery"] == email_jobs(db)[0].idempotency_key
    assert email_jobs(db)[0].state == "done"


def test_resubmission_has_another_subject(app, db, smtp, login_as):
    applicant = UserFactory()
    with app.test_request_context():
        request = submitted_request(applicant)
        instructor = UserFactory(roles=["api_particulier:instructor"])
        decisions.decide(
            request,
            "request_changes",
            instructor,
            version=request.version,
            reason="Joignez la délibération",
        )
        form = authorization_requests.get_catalog().form(request.form_uid)
        authorization_requests.write_answers(request, form, {"intitule": "Nouveau"})
        _db.session.commit()
        assert submission.submit_request(
            request, form, applicant, terms_accepted=True, dpo_informed=True
        ).ok
        outbox.drain()
    subjects = smtp.subjects()
    assert any("requiert des modifications" in s for s in subjects)
    assert any("modifiée a bien été reçue" in s for s in subjects)
    changes = next(m for m in smtp.messages if "requiert" in str(m["Subject"]))
    assert "Joignez la délibération" in changes.get_body(preferencelist=("plain",)).get_content()


def test_approval_notifies_the_applicant_the_dpo_and_the_controller(app, db, smtp):
    with app.test_request_context():
        request = submitted_request()
        instructor = UserFactory(roles=["api_particulier:instructor"])
        decisions.decide(request, "approve", instructor, version=request.version)
        outbox.drain()
    recipients = {str(m["To"]): str(m["Subject"]) for m in smtp.messages}
    assert "validée" in recipients[request.applicant.email]
    dpo = request.data["delegue_protection_donnees_email"]
    controller = request.data["responsable_traitement_email"]
    assert recipients[dpo].startswith("Vous avez été désigné")
    assert recipients[controller].startswith("Vous avez été désigné")


def test_a_rolled_back_approval_queues_nothing(app, db):
    with app.test_request_context():
        request = submitted_request()
        before = len(email_jobs(db))
        instructor = UserFactory(roles=["api_particulier:instructor"])
        _db.session.commit()
        nested = _db.session.begin_nested()
        decisions.approve(request, instructor, None)
        _db.session.flush()
        assert len(email_jobs(db)) > before  # queued inside the transaction…
        nested.rollback()
        _db.session.expire_all()
        assert len(email_jobs(db)) == before  # …and gone with it


def test_a_decision_that_fails_queues_nothing(app, db):
    with app.test_request_context():
        request = submitted_request()
        before = len(email_jobs(db))
        instructor = UserFactory(roles=["api_particulier:instructor"])
        with pytest.raises(decisions.DecisionError):
            decisions.decide(request, "refuse", instructor, version=request.version, reason="")
        _db.session.rollback()
        assert len(email_jobs(db)) == before


def test_smtp_down_then_up_delivers_once(app, db, monkeypatch):
    port = free_port()
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", port)
    monkeypatch.setitem(app.config, "MAIL_TIMEOUT_SECONDS", 1)
    with app.test_request_context():
        submitted_request()
        outbox.drain()
        [job] = email_jobs(db)
        assert job.state == "pending" and job.attempts == 1 and job.last_error
        assert job.available_at > utcnow()
        assert outbox.drain() == 0  # not due yet
        server = SmtpServer(port).start()
        try:
            outbox.drain(now=utcnow() + LATER)
            outbox.drain(now=utcnow() + LATER)
        finally:
            server.stop()
    assert len(server.inbox.messages) == 1
    assert email_jobs(db)[0].state == "done" and email_jobs(db)[0].attempts == 2


def test_a_worker_that_dies_after_claiming_leaves_the_row_for_later(app, db, smtp):
    job = outbox.enqueue("email", {"key": "x", "to": ["a@b.fr"], "subject": "s", "text": "t"})
    _db.session.commit()
    assert outbox.claim("dead-worker") == [job.id]
    # The worker is gone without delivering: the lease keeps others off for a while…
    assert outbox.drain() == 0
    # …then the row is claimed again and delivered.
    assert outbox.drain(now=utcnow() + outbox.LEASE + timedelta(seconds=1)) == 1
    assert len(smtp.messages) == 1 and job.state == "done"


def test_two_postgresql_workers_never_claim_the_same_row(app):
    with app.app_context():
        if _db.engine.dialect.name != "postgresql":
            pytest.skip("FOR UPDATE SKIP LOCKED is PostgreSQL's")
    statement = text(
        "SELECT id FROM outbox_jobs WHERE state = 'pending' AND kind = 'race' "
        "ORDER BY id LIMIT 5 FOR UPDATE SKIP LOCKED"
    )
    with app.app_context():
        with _db.engine.begin() as connection:
            for index in range(8):
                connection.execute(
                    text(
                        "INSERT INTO outbox_jobs (kind, payload, idempotency_key, state, "
                        "attempts, max_attempts, available_at, created_at) VALUES "
                        "('race', '{}', :key, 'pending', 0, 3, now(), now())"
                    ),
                    {"key": f"race-{index}"},
                )
        try:
            with _db.engine.connect() as first, _db.engine.connect() as second:
                first.begin()
                second.begin()
                a = {row[0] for row in first.execute(statement)}
                b = {row[0] for row in second.execute(statement)}
                first.rollback()
                second.rollback()
            assert len(a) == 5 and len(b) == 3 and not a & b
        finally:
            with _db.engine.begin() as connection:
                connection.execute(text("DELETE FROM outbox_jobs WHERE kind = 'race'"))


def test_unsubscribe_stops_one_kind_on_one_definition(db):
    from datapass.services import instructor_settings
    from datapass.views.public import UNSUBSCRIBE_LABELS

    assert set(UNSUBSCRIBE_LABELS) == set(instructor_settings.NOTIFICATION_KINDS)
    instructor = UserFactory(roles=["api_particulier:instructor"])
    instructor_settings.unsubscribe(instructor, "api_particulier", "message")
    assert instructor_settings.notification_settings(instructor, ["api_particulier"]) == {
        "api_particulier": (True, False)
    }
    instructor_settings.unsubscribe(instructor, "api_particulier", "submission")
    assert instructor_settings.notification_settings(instructor, ["api_particulier"]) == {
        "api_particulier": (False, False)
    }
    assert instructor_settings.notification_recipients("api_particulier", "submission") == []


def test_messages_both_ways_and_transfer(app, db, smtp):
    instructor = UserFactory(roles=["api_particulier:instructor"])
    _db.session.commit()
    with app.test_request_context():
        request = submitted_request()
        messaging.post_message(request, request.applicant, "Question", side=APPLICANT_SIDE)
        messaging.post_message(request, instructor, "Réponse", side=INSTRUCTOR_SIDE)
        colleague = UserFactory(current_organization=request.organization)
        _db.session.commit()
        transfers.transfer_request(request, instructor, colleague, role=workflow.INSTRUCTOR)
        outbox.drain()
    subjects = smtp.subjects()
    assert any("Nouveau message du demandeur" in s for s in subjects)
    assert any("Nouveau message des instructeurs" in s for s in subjects)
    transferred = [m for m in smtp.messages if "transférée" in str(m["Subject"])]
    assert transferred and colleague.email in str(transferred[0]["To"])


def test_docs_list_every_email_the_code_sends():
    doc = (Path(__file__).parents[2] / "docs" / "emails.md").read_text()
    rows = re.findall(r"^\| `(\w+)` \| ([^|]+) \| ([^|]+) \| ([^|]+) \|$", doc, re.M)
    documented = {key: subject.strip() for key, _event, _to, subject in rows}
    expected = {
        key: email.subject.format(ref="D123", intitule="…").replace("\u00a0", " ")
        for key, email in emails.EMAILS.items()
    }
    assert {k: v.replace("\u00a0", " ") for k, v in documented.items()} == expected


def test_every_catalogued_email_is_sent_somewhere(app, db, smtp):
    """A whole life cycle sends each email of the catalogue at least once."""
    instructor = UserFactory(roles=["api_particulier:instructor"])
    _db.session.commit()
    with app.test_request_context():
        applicant = UserFactory()
        request = submitted_request(applicant)
        messaging.post_message(request, applicant, "Question", side=APPLICANT_SIDE)
        messaging.post_message(request, instructor, "Réponse", side=INSTRUCTOR_SIDE)
        decisions.decide(
            request, "request_changes", instructor, version=request.version, reason="Précisez"
        )
        form = authorization_requests.get_catalog().form(request.form_uid)
        authorization_requests.write_answers(request, form, {"intitule": "Autre"})
        _db.session.commit()
        submission.submit_request(request, form, applicant, terms_accepted=True, dpo_informed=True)
        decisions.decide(request, "approve", instructor, version=request.version)
        contact_updates.update_contacts(
            request.authorizations[-1],
            applicant,
            {"delegue_protection_donnees_email": "nouveau.dpo@ccas.example.fr"},
            contact_types=("delegue_protection_donnees",),
            version=request.version,
        )
        authorization_requests.reopen_request(request, applicant)
        authorization_requests.write_answers(request, form, {"intitule": "Encore"})
        _db.session.commit()
        submission.submit_request(request, form, applicant, terms_accepted=True, dpo_informed=True)
        decisions.decide(request, "refuse", instructor, version=request.version, reason="Non")
        colleague = UserFactory(current_organization=request.organization)
        _db.session.commit()
        transfers.transfer_request(request, instructor, colleague, role=workflow.INSTRUCTOR)
        from datapass.services import tokens

        assert tokens.send_reminders(now=utcnow() + tokens.lifetime() - timedelta(days=80)) == 1
        decisions.decide(request, "revoke", instructor, version=request.version, reason="Fin")
        refused = submitted_request()
        decisions.decide(refused, "refuse", instructor, version=refused.version, reason="Non")
        submitted_request()  # due in two months: in the digest of 55 days from now
        assert deadlines.send_digest(utcnow() + timedelta(days=55)) == 1
        authorization_requests.start_request_for_applicant(UserFactory(), form)  # left idle
        waiting = submitted_request()
        decisions.decide(
            waiting, "request_changes", instructor, version=waiting.version, reason="?"
        )
        warned = workflow.add_months(utcnow(), 3) + timedelta(days=1)
        reminders.run(workflow.add_months(utcnow(), 1) + timedelta(days=1))
        reminders.run(warned)
        reminders.run(warned + timedelta(days=16))
        UserFactory(roles=["admin"])
        users.grant_role(colleague.email, "api_particulier:reporter", reason="Renfort")
        from datapass.services import invitations

        invitations.create_by_api(
            form, siret="13002526500013", email="futur@ccas.fr", answers={}, client_id="c"
        )
    sent = {job.payload["key"] for job in email_jobs(db)}
    assert sent == set(emails.EMAILS)
