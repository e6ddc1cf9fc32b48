"""The CRPA deadline: set at each complete submission, printed in the acknowledgement, shown
as a badge in the instruction queue, which sorts by the nearest one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from datapass import workflow
from datapass.models import AuthorizationRequest, OutboxJob
from datapass.models.base import utcnow
from datapass.services import authorization_requests, decisions, submission
from datapass.views.template_helpers import date_fr, deadline_fr
from tests.factories import UserFactory
from tests.support.authorization_requests import submitted_request
from tests.support.http import reload


@pytest.fixture
def instructor(login_as):
    return login_as(roles=["api_particulier:instructor"])


@pytest.mark.parametrize(
    ("submitted", "deadline"),
    [
        (datetime(2026, 1, 15, 9, tzinfo=UTC), datetime(2026, 3, 15, 9, tzinfo=UTC)),
        (datetime(2025, 12, 31, 9, tzinfo=UTC), datetime(2026, 2, 28, 9, tzinfo=UTC)),
        (datetime(2026, 11, 30, 9, tzinfo=UTC), datetime(2027, 1, 30, 9, tzinfo=UTC)),
    ],
)
def test_the_deadline_is_two_calendar_months_later(submitted, deadline):
    assert workflow.decision_deadline(submitted) == deadline


def test_each_submission_sets_it_and_a_resubmission_restarts_it(app, db):
    instructor = UserFactory(roles=["api_particulier:instructor"])
    with app.test_request_context():
        request = submitted_request()
        assert request.decision_deadline == workflow.decision_deadline(request.last_submitted_at)
        [ack] = [
            job
            for job in db.session.scalars(select(OutboxJob).where(OutboxJob.kind == "email"))
            if job.payload["key"] == "submission_ack"
        ]
        assert (
            f"soit le {date_fr(request.decision_deadline)}, elle sera réputée rejetée"
            in (ack.payload["text"])
        )
        decisions.decide(
            request, "request_changes", instructor, version=request.version, reason="?"
        )
        request.decision_deadline = utcnow() - timedelta(days=1)  # as if long ago
        db.session.commit()
        form = authorization_requests.get_catalog().form(request.form_uid)
        result = submission.submit_request(
            request, form, request.applicant, terms_accepted=True, dpo_informed=True
        )
        assert result.ok
        request = reload(request)
        assert request.decision_deadline == workflow.decision_deadline(request.last_submitted_at)
        assert request.decision_deadline > utcnow() + timedelta(days=58)


@pytest.mark.parametrize(
    ("days", "label"),
    [(12, "J-12"), (0, "J-0"), (-1, "Délai dépassé de 1 jour"), (-3, "Délai dépassé de 3 jours")],
)
def test_the_badge_counts_days_in_paris(days, label):
    now = datetime(2026, 12, 1, 22, 30, tzinfo=UTC)  # 23 h 30 in Paris, 1 December
    deadline = datetime(2026, 12, 1, 12, tzinfo=UTC) + timedelta(days=days)
    assert deadline_fr(deadline, now) == label


def _submitted(db, applicant, deadlines):
    now = utcnow()
    rows = [
        AuthorizationRequest(
            definition_id="api_particulier",
            form_uid="api-particulier-ccas-arche-mc2",
            catalog_version="t",
            state=state,
            data={"intitule": f"Échéance {index}"},
            intitule=f"Échéance {index}",
            organization=applicant.current_organization,
            applicant=applicant,
            last_submitted_at=now - timedelta(days=index),
            decision_deadline=now + timedelta(days=days),
        )
        for index, (state, days) in enumerate(deadlines)
    ]
    db.session.add_all(rows)
    db.session.commit()
    return rows


def test_the_queue_shows_badges_and_sorts_by_the_nearest_deadline(client, db, instructor):
    applicant = UserFactory()
    later, overdue, soon, changes = _submitted(
        db,
        applicant,
        [("submitted", 40), ("submitted", -3), ("submitted", 12), ("changes_requested", 1)],
    )
    page = client.get("/instruction/tableau-de-bord/demandes?tri=echeance").text
    assert "Échéance la plus proche" in page
    order = [page.index(r.public_reference + "<") for r in (overdue, changes, soon, later)]
    assert order == sorted(order)
    assert "J-12" in page and "J-40" in page and "Délai dépassé de 3 jours" in page
    assert "J-1<" not in page and "J-0<" not in page  # no badge while changes are requested


def test_the_deadline_sort_is_a_keyset_over_pages(client, db, instructor):
    applicant = UserFactory()
    rows = _submitted(db, applicant, [("submitted", (i * 7) % 30) for i in range(30)])
    expected = [r.public_reference for r in sorted(rows, key=lambda r: (r.decision_deadline, r.id))]
    seen, url = [], "/instruction/tableau-de-bord/demandes?tri=echeance"
    for _ in range(3):
        text = client.get(url).text
        seen += [ref for ref in expected if f">{ref}<" in text]
        marker = 'fr-pagination__link--next fr-pagination__link--lg-label" href="'
        if marker not in text:
            break
        url = text.split(marker)[1].split('"')[0].replace("&amp;", "&")
    positions = {ref: i for i, ref in enumerate(expected)}
    assert sorted(seen, key=positions.get) == expected and len(seen) == 30
