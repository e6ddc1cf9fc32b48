"""Public statistics (/stats): hand-computed numbers, constant queries, cache, the delay
shown on the introduction and choice pages and in the acknowledgement email."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select

from datapass import workflow
from datapass.extensions import db as _db
from datapass.models import AuthorizationRequest, AuthorizationRequestEvent, OutboxJob
from datapass.models.base import utcnow
from datapass.services import statistics
from tests.factories import AuthorizationRequestFactory, UserFactory
from tests.support.authorization_requests import submitted_request
from tests.support.queries import count_queries

FORM = "api-particulier-aides-sociales-ccas"
# Timelines in days after ``base``: (event, day). Hand-computed below.
TIMELINES = [
    [("submit", 4), ("request_changes", 6), ("submit", 9), ("approve", 14)],  # 2 / 10
    [("submit", 5), ("approve", 9)],  # 4 / 4
    [("submit", 19), ("refuse", 33)],  # 14 / 14
    [("submit", 31), ("instructor_message", 32), ("approve", 39)],  # 1 / 8
    [("submit", 40), ("approve", 46)],  # 6 / 6
    [("submit", 50)],  # waiting: the backlog
]
# To the first instruction: [1, 2, 4, 6, 14]; to the decision: [4, 6, 8, 10, 14].
STATES = [workflow.VALIDATED] * 2 + [workflow.REFUSED] + [workflow.VALIDATED] * 2
STATES += [workflow.SUBMITTED]


def build_timelines(base: datetime) -> None:
    applicant = UserFactory()
    for timeline, state in zip(TIMELINES, STATES, strict=True):
        authorization_request = AuthorizationRequestFactory(
            applicant=applicant, form_uid=FORM, state=state
        )
        for name, day in timeline:
            authorization_request.record_event(name, actor=None, at=base + timedelta(days=day))
    _db.session.flush()
    statistics.clear_cache()


def test_numbers_match_a_hand_computed_fixture(db):
    # From 1 January 2026: January has days 0–30, February 31–58.
    build_timelines(datetime(2026, 1, 1, 10, tzinfo=UTC))
    stats = statistics.compute(statistics.Filters(period="tout"))

    assert stats.monthly == {
        "2026-01": {"submitted": 3, "validated": 2, "refused": 0},
        "2026-02": {"submitted": 3, "validated": 2, "refused": 1},
    }
    assert stats.by_form == {
        ("api_particulier", FORM): {"submitted": 6, "validated": 4, "refused": 1}
    }
    instruction, decision = stats.overall
    assert (instruction.count, instruction.median, instruction.p80) == (5, 4, 6)
    assert (decision.count, decision.median, decision.p80, decision.mean) == (5, 8, 10, 8.4)
    assert stats.backlog == {
        ("api_particulier", FORM): {workflow.SUBMITTED: 1, workflow.CHANGES_REQUESTED: 0}
    }
    # A filter on another démarche finds nothing.
    other = statistics.compute(statistics.Filters(form_uid="api-particulier-pass-famille"))
    assert other.monthly == {} and other.backlog == {}


def test_the_page_shows_charts_their_tables_and_csv(db, client):
    build_timelines(datetime(2026, 1, 1, 10, tzinfo=UTC))
    html = client.get("/stats?periode=tout").get_data(as_text=True)
    assert html.count("<bar-chart") == 4
    assert html.count("<table") == 4
    assert "<caption>Demandes par mois (données du graphique)</caption>" in html
    assert '<th scope="row">janvier 2026</th><td>3</td><td>2</td><td>0</td>' in html
    assert "dsfr/chart/BarChart.js" in html
    response = client.get("/stats/delais.csv?periode=tout")
    assert response.mimetype == "text/csv"
    lines = response.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert lines[-1] == "Toutes démarches;4,0;6,0;8,0;10,0;5"
    assert client.get("/stats/inconnu.csv").status_code == 404


def test_a_bad_filter_says_so_next_to_the_field_and_keeps_the_default(db, client):
    html = client.get("/stats?periode=99&demarche=nope").get_data(as_text=True)
    assert '<select aria-describedby="periode-messages" aria-invalid="true"' in html
    assert '<option selected value="12">Les 12 derniers mois' in html
    assert html.count("Ce choix n’existe pas\u00a0: la valeur") == 2


def bulk_requests(count: int) -> None:
    """``count`` submitted-then-decided requests, inserted in bulk (no ORM objects)."""
    applicant = UserFactory()
    _db.session.flush()
    now = utcnow()
    rows = [
        {
            "definition_id": "api_particulier",
            "form_uid": FORM,
            "catalog_version": "test",
            "state": workflow.VALIDATED if index % 3 else workflow.SUBMITTED,
            "organization_id": applicant.current_organization.id,
            "applicant_id": applicant.id,
            "data": {},
        }
        for index in range(count)
    ]
    _db.session.execute(insert(AuthorizationRequest), rows)
    ids = _db.session.scalars(
        select(AuthorizationRequest.id).order_by(AuthorizationRequest.id.desc()).limit(count)
    ).all()
    events = []
    for index, request_id in enumerate(ids):
        submitted = now - timedelta(days=index % 300 + 20)
        events.append({"authorization_request_id": request_id, "name": "submit", "payload": {}})
        events[-1]["created_at"] = submitted
        if index % 3:
            events.append(
                {
                    "authorization_request_id": request_id,
                    "name": "approve",
                    "payload": {},
                    "created_at": submitted + timedelta(days=index % 17),
                }
            )
    _db.session.execute(insert(AuthorizationRequestEvent), events)
    statistics.clear_cache()


def test_the_page_runs_the_same_queries_at_100_and_at_10000_requests(db, client):
    bulk_requests(100)
    few = count_queries(client, "/stats")
    bulk_requests(9900)
    assert count_queries(client, "/stats") == few
    assert count_queries(client, "/stats?periode=tout&definition=api_particulier") == few


def test_statistics_are_cached_a_few_minutes(db, client, app):
    assert app.config["STATS_CACHE_SECONDS"] == 300
    bulk_requests(10)
    first = count_queries(client, "/stats")
    cached = count_queries(client, "/stats")
    assert cached < first  # the three statistics queries are not run again
    statistics.clear_cache()
    assert count_queries(client, "/stats") == first


def test_the_introduction_and_choice_pages_show_the_observed_average_delay(db, client):
    build_timelines(utcnow() - timedelta(days=60))
    sentence = "Délai moyen de traitement constaté\u00a0: 8\u00a0jours"
    for path in (f"/formulaires/{FORM}/demande/nouveau", "/demandes/api_particulier/nouveau"):
        html = client.get(path).get_data(as_text=True).replace("&nbsp;", "\u00a0")
        assert sentence in html, path


def test_no_average_is_announced_below_five_decisions(db, client):
    html = client.get(f"/formulaires/{FORM}/demande/nouveau").get_data(as_text=True)
    assert "Délai moyen de traitement constaté" not in html


def test_the_acknowledgement_email_gives_the_80th_percentile(app, db):
    build_timelines(utcnow() - timedelta(days=60))
    with app.test_request_context():
        submitted_request(UserFactory(), form_uid=FORM)
    job = _db.session.scalars(
        select(OutboxJob).where(OutboxJob.kind == "email").order_by(OutboxJob.id.desc())
    ).all()
    [ack] = [j for j in job if j.payload["key"] == "submission_ack"]
    assert "80 % des demandes ont reçu une réponse en 10 jours ou moins" in ack.payload["text"]
