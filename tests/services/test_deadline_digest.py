"""The weekly deadline digest: requests being instructed due within 7 days, to each
instructor of their definition who did not opt out."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from datapass import periodic
from datapass.models import OutboxJob
from datapass.models.base import utcnow
from datapass.services import deadlines, emails, instructor_settings
from tests.factories import UserFactory
from tests.support.authorization_requests import submitted_request

NBSP = "\u00a0"


@pytest.fixture(autouse=True)
def request_context(app, db):
    with app.test_request_context():
        yield


def digests(db):
    return [
        job
        for job in db.session.scalars(select(OutboxJob).where(OutboxJob.kind == "email"))
        if job.payload["key"] == "deadline_digest"
    ]


def test_the_digest_lists_the_requests_due_within_7_days_nearest_first(db):
    instructor = UserFactory(roles=["api_particulier:instructor"])
    UserFactory(roles=["api_particulier:reporter"], email="rapporteur@exemple.fr")
    later, soon = submitted_request(intitule="Plus tard"), submitted_request(intitule="Bientôt")
    soon.decision_deadline = utcnow() + timedelta(days=3)
    later.decision_deadline = utcnow() + timedelta(days=30)
    overdue = submitted_request(intitule="En retard")
    overdue.decision_deadline = utcnow() - timedelta(days=2)
    db.session.commit()
    assert deadlines.send_digest(utcnow()) == 2
    jobs = digests(db)
    assert sorted(job.payload["to"][0] for job in jobs) == sorted(
        [instructor.email, "rapporteur@exemple.fr"]
    )
    text = jobs[0].payload["text"]
    assert text.index("En retard") < text.index("Bientôt") and "Plus tard" not in text
    assert f"{overdue.public_reference} « En retard »{NBSP}: Délai dépassé de 2 jours" in text
    assert f"{soon.public_reference} « Bientôt »{NBSP}: J-3" in text
    assert "/notifications/desabonnement/" in text
    assert jobs[0].payload["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_an_instructor_who_opted_out_gets_none_and_nothing_due_sends_nothing(db):
    instructor = UserFactory(roles=["api_particulier:instructor"])
    assert deadlines.send_digest(utcnow()) == 0  # nothing due
    request = submitted_request()
    request.decision_deadline = utcnow() + timedelta(days=1)
    db.session.commit()
    instructor_settings.save_notification_settings(
        instructor, {"api_particulier": (True, True)}, {"api_particulier": False}
    )
    assert instructor_settings.digest_settings(instructor, ["api_particulier"]) == {
        "api_particulier": False
    }
    assert deadlines.send_digest(utcnow()) == 0 and digests(db) == []
    instructor_settings.save_notification_settings(
        instructor, {"api_particulier": (True, True)}, {"api_particulier": True}
    )
    assert deadlines.send_digest(utcnow()) == 1
    instructor_settings.unsubscribe(instructor, "api_particulier", "deadline_digest")
    assert deadlines.send_digest(utcnow() + timedelta(seconds=1)) == 0


def test_the_digest_is_a_weekly_periodic_task_on_mondays(app):
    task = periodic.tasks()["deadline_digest"]
    assert (task.every, task.weekday, task.hour) == (periodic.WEEKLY, 0, 8)
    assert task.run == deadlines.send_digest
    assert emails.EMAILS["deadline_digest"].subject.startswith("Demandes à décider")


def test_the_settings_page_offers_the_digest_opt_out(client, db, login_as):
    login_as(roles=["api_particulier:instructor"])
    page = client.get("/instruction/parametres").text
    assert (
        "Recevoir chaque lundi les demandes dont le délai de décision échoit sous 7 jours" in page
    )
