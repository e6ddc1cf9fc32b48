"""Instructors see what helps them decide: the organisation's other requests and
habilitations (constant queries), the applicant's membership, and « Marquer comme suivie »."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from datapass.models import (
    AuthorizationRequest,
    InstructorNotificationSetting,
    OutboxJob,
    RequestFollow,
)
from datapass.models.message import APPLICANT_SIDE
from datapass.services import decisions, messaging, request_page
from tests.factories import UserFactory
from tests.support.authorization_requests import submitted_request
from tests.support.http import post_form
from tests.views.test_editors import _statements
from tests.views.test_instruction import _add_submitted

DEFINITION = "api_particulier"


@pytest.fixture
def instructor(login_as):
    return login_as(roles=[f"{DEFINITION}:instructor"])


def _approved(applicant):
    request = submitted_request(applicant)
    instructor = UserFactory(roles=[f"{DEFINITION}:instructor"])
    decisions.decide(request, "approve", instructor, version=request.version)
    return request


def _history(page: str) -> str:
    start = page.index('id="historique-organisation"')
    return page[start : page.index("</section>", start)]


def test_the_organisations_other_requests_and_habilitations(app, client, db, instructor):
    applicant = UserFactory()
    with app.test_request_context():
        validated = _approved(applicant)
        current = submitted_request(applicant)
        elsewhere = submitted_request()  # another organisation
    draft = AuthorizationRequest(
        definition_id=DEFINITION,
        form_uid=current.form_uid,
        catalog_version="t",
        data={},
        organization=applicant.current_organization,
        applicant=applicant,
    )
    db.session.add(draft)
    db.session.commit()

    history = _history(client.get(f"/instruction/demandes/{current.id}").text)
    assert f'href="/instruction/demandes/{validated.id}"' in history
    assert f"D{current.id}<" not in history and f'/demandes/{current.id}"' not in history
    assert f'/demandes/{elsewhere.id}"' not in history
    assert f'/demandes/{draft.id}"' not in history  # a plain draft is the applicant's business
    habilitation = validated.authorizations[0]
    assert f"{habilitation.public_reference} du" in history and "Active" in history

    alone = _history(client.get(f"/instruction/demandes/{elsewhere.id}").text)
    assert "Aucune autre demande soumise par cette organisation." in alone
    assert "Aucune habilitation pour cette organisation." in alone


def test_the_history_costs_the_same_queries_for_3_or_40_requests(client, db, instructor):
    applicant = UserFactory()
    current = submitted_request(applicant)
    url = f"/instruction/demandes/{current.id}"
    _add_submitted(db, 3, applicant.current_organization, applicant)
    client.get(url)  # the same warm identity map for both counts
    few = len(_statements(client, url))
    _add_submitted(db, 37, applicant.current_organization, applicant)
    page = client.get(url).text
    many = len(_statements(client, url))
    assert many == few
    assert len(re.findall(r'<li><a href="/instruction/demandes/\d+">', _history(page))) == 10
    siret = applicant.current_organization.siret
    assert f"Toutes les demandes du SIRET {siret}" in page


@pytest.mark.parametrize("verified", [True, False])
def test_the_applicants_membership_status(client, db, instructor, verified):
    applicant = UserFactory()
    request = submitted_request(applicant)
    membership = applicant.memberships[0]
    membership.verified = verified
    db.session.commit()
    page = client.get(f"/instruction/demandes/{request.id}").text
    status = page[page.index('id="rattachement"') :].split("</dd>")[0]
    assert ("Vérifié" in status) is verified
    assert ("Rattachement non vérifié" in status) is not verified


def _emailed(db, request_id: int, address: str) -> list[str]:
    jobs = db.session.scalars(select(OutboxJob).where(OutboxJob.kind == "email"))
    return [
        job.payload["key"]
        for job in jobs
        if address in job.payload["to"]
        and f"/instruction/demandes/{request_id}" in job.payload["text"]
    ]


def test_a_followed_request_notifies_an_instructor_who_turned_emails_off(client, db, instructor):
    db.session.add(
        InstructorNotificationSetting(
            user_id=instructor.id,
            definition_id=DEFINITION,
            notify_submissions=False,
            notify_messages=False,
        )
    )
    applicant = UserFactory()
    request = submitted_request(applicant)
    url = f"/instruction/demandes/{request.id}"
    messaging.post_message(request, applicant, "Avant le suivi.", side=APPLICANT_SIDE)
    assert _emailed(db, request.id, instructor.email) == []

    page = client.get(url)
    assert "Marquer comme suivie" in page.text
    response = post_form(client, f"{url}/suivre", page=page)
    assert response.status_code == 302
    followed = client.get(url)
    assert "Ne plus suivre" in followed.text and "Demande suivie" in followed.text
    assert db.session.scalar(select(RequestFollow.user_id)) == instructor.id
    messaging.post_message(request, applicant, "Une question.", side=APPLICANT_SIDE)
    assert _emailed(db, request.id, instructor.email) == ["applicant_message"]

    post_form(client, f"{url}/ne-plus-suivre", page=followed)
    assert "Marquer comme suivie" in client.get(url).text
    messaging.post_message(request, applicant, "Encore une.", side=APPLICANT_SIDE)
    assert _emailed(db, request.id, instructor.email) == ["applicant_message"]


def test_a_subscribed_follower_gets_one_email_and_a_former_instructor_none(db):
    applicant = UserFactory()
    request = submitted_request(applicant)
    subscribed = UserFactory(roles=[f"{DEFINITION}:instructor"])
    former = UserFactory(roles=["autre_definition:instructor"])
    db.session.add_all(
        RequestFollow(user_id=user.id, authorization_request_id=request.id)
        for user in (subscribed, former)
    )
    db.session.commit()
    messaging.post_message(request, applicant, "Bonjour.", side=APPLICANT_SIDE)
    assert _emailed(db, request.id, subscribed.email) == ["applicant_message"]
    assert _emailed(db, request.id, former.email) == []


def test_following_needs_a_valid_csrf_token(client, db, instructor):
    request = submitted_request()
    response = client.post(f"/instruction/demandes/{request.id}/suivre")
    assert response.status_code == 400
    assert db.session.scalar(select(RequestFollow.id)) is None


def test_no_one_outside_the_instruction_follows_or_unfollows(client, db, login_as):
    applicant = login_as()
    request = submitted_request(applicant)
    page = client.get(f"/demandes/{request.id}")
    for action in ("suivre", "ne-plus-suivre"):
        response = post_form(client, f"/instruction/demandes/{request.id}/{action}", page=page)
        assert response.status_code == 404
    assert db.session.scalar(select(RequestFollow.id)) is None


@pytest.mark.parametrize(
    ("definitions", "shown"),
    [
        ([DEFINITION], True),
        (["autre_definition", DEFINITION, "encore_une"], True),  # one parameter each
        (["autre_definition"], False),
        ([], False),
    ],
)
def test_the_history_lists_the_definitions_the_instructor_reads(app, db, definitions, shown):
    applicant = UserFactory()
    with app.test_request_context():
        validated = _approved(applicant)
        current = submitted_request(applicant)
    history = request_page.load(current.id, applicant.id, definitions).history
    assert [other.id for other in history.requests] == ([validated.id] if shown else [])
    assert len(history.authorizations) == (1 if shown else 0)
