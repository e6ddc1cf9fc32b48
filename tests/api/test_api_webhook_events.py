"""``create_by_api`` (the draft made when the applicant claims an API invitation) and
``update_by_api`` are offered to webhooks and delivered."""

from __future__ import annotations

from sqlalchemy import select

from datapass import outbox
from datapass.models import OutboxJob
from datapass.models.webhook_endpoint import WEBHOOK_EVENTS
from tests.api.conftest import validate
from tests.api.test_api_v1 import _claim
from tests.support.webhooks import attempts, make_webhook

CCAS_SIRET = "26920023400012"


def test_the_api_events_reach_the_webhooks_listening_to_them(client, db, auth, httpserver):
    assert {"create_by_api", "update_by_api"} <= set(WEBHOOK_EVENTS)
    httpserver.expect_request("/hook").respond_with_data("ok")
    webhook = make_webhook(httpserver, events=["create_by_api", "update_by_api"])
    body = {
        "demande": {
            "form_uid": "api-particulier-aides-sociales-ccas",
            "applicant": {"email": "agent@ccas-exemple.fr"},
            "organization": {"siret": CCAS_SIRET},
            "data": {"intitule": "Par l’éditeur"},
        }
    }
    invitation = validate(client.post("/api/v1/demandes", json=body, headers=auth)).get_json()
    draft = _claim(db, invitation["id"])
    patch = {"demande": {"data": {"description": "Via l’API"}}}
    path = f"/api/v1/demandes/{draft.id}"
    assert validate(client.patch(path, json=patch, headers=auth)).status_code == 200
    jobs = db.session.scalars(select(OutboxJob).where(OutboxJob.kind == "webhook")).all()
    assert [job.payload["event"] for job in jobs] == ["create_by_api", "update_by_api"]
    with client.application.test_request_context():
        outbox.drain()
    logged = attempts(webhook)
    assert [(a.event, a.success) for a in logged] == [
        ("create_by_api", True),
        ("update_by_api", True),
    ]
    assert '"description": "Via l’API"' in logged[1].body
