"""The ``update`` event: an applicant's edits, debounced to one per request per 10 minutes,
delivered to the webhooks listening to it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from datapass import blocks
from datapass.catalog import get_catalog
from datapass.models import OutboxJob
from datapass.services import authorization_requests, request_updates
from tests.factories import UserFactory
from tests.support.http import reload
from tests.support.webhooks import make_webhook

pytestmark = pytest.mark.usefixtures("request_context")

GENERIC = "api-particulier"


def save(request, user, **answers):
    catalog_form = get_catalog().form(GENERIC)
    step = next(step for step in blocks.steps(catalog_form) if step.block == "basic_infos")
    return authorization_requests.save_step(
        request, catalog_form, step, MultiDict(answers), user=user, action="save"
    )


def updates(request):
    return [event for event in reload(request).events if event.name == "update"]


def test_edits_fire_one_update_per_ten_minutes(db, httpserver):
    make_webhook(httpserver, events=["update"])
    applicant = UserFactory()
    draft = authorization_requests.start_request_for_applicant(
        applicant, get_catalog().form(GENERIC)
    )
    save(draft, applicant, intitule="Premier")
    save(draft, applicant, intitule="Deuxième")
    save(draft, applicant, intitule="Deuxième")
    [first] = updates(draft)
    assert first.payload == {"keys": ["intitule"]} and first.user_id == applicant.id
    jobs = db.session.scalars(select(OutboxJob).where(OutboxJob.kind == "webhook")).all()
    assert [job.payload["event"] for job in jobs] == ["update"]

    first.created_at -= request_updates.DEBOUNCE + timedelta(seconds=1)
    db.session.commit()
    save(draft, applicant, intitule="Deuxième")  # nothing changed: no event
    assert len(updates(draft)) == 1
    save(draft, applicant, intitule="Troisième", description="Plus tard")
    assert [e.payload["keys"] for e in updates(draft)] == [
        ["intitule"],
        ["description", "intitule"],
    ]
    assert len(db.session.scalars(select(OutboxJob).where(OutboxJob.kind == "webhook")).all()) == 2
