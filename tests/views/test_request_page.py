"""The instruction request page's cost: a constant, small number of statements whatever it
shows, nothing loaded lazily, and its answers rendered once per version of what they show
(datapass/services/request_page.py, datapass/views/request_fragments.py)."""

from __future__ import annotations

import re

import pytest
from flask import url_for

from datapass import workflow
from datapass.catalog import get_catalog
from datapass.models import Document, RequestFollow
from datapass.models.document import SCAN_CLEAN, SCAN_PENDING
from datapass.models.message import APPLICANT_SIDE, INSTRUCTOR_SIDE
from datapass.services import (
    authorization_requests,
    decisions,
    messaging,
    request_page,
    submission,
)
from datapass.views.request_fragments import fragment_cache
from tests.factories import UserFactory
from tests.support.authorization_requests import approved_request, submitted_request
from tests.support.queries import page_statements, recorded_lazy_loads

INSTRUCTOR = "api_particulier:instructor"
# Statements of the page (read without a transaction: no BEGIN): the session, the request
# with its applicant's email, membership and follow, its lists (timeline, messages, documents,
# message templates, habilitations, the organisation's history).
MAX_STATEMENTS = 3


@pytest.fixture
def instructor(login_as):
    return login_as(roles=[INSTRUCTOR])


def _document(request, name: str, scan_state: str | None = None) -> Document:
    document = Document(
        field="cadre_juridique_document",
        filename=name,
        storage_key=f"{request.id}-{name}",
        size=1024,
        sha256="0" * 64,
        scan_state=scan_state,
    )
    request.documents.append(document)
    return document


def _rich_request(app, db, instructor):
    """A request showing a bit of everything: habilitation, timeline by several people,
    messages of both sides, documents, a membership verified by an administrator, followed."""
    request = approved_request(app)
    with app.test_request_context():
        for n in range(3):
            author = UserFactory(roles=[INSTRUCTOR])
            messaging.post_message(request, author, f"Question {n}", side=INSTRUCTOR_SIDE)
            messaging.post_message(request, request.applicant, f"Réponse {n}", side=APPLICANT_SIDE)
    _document(request, "deliberation.pdf", scan_state=SCAN_CLEAN)
    _document(request, "annexe.pdf")
    membership = request.applicant.memberships[0]
    membership.verified = True
    membership.verification_reason = "Pièce justificative"
    membership.verified_by = UserFactory(roles=["admin"])
    db.session.add(RequestFollow(user_id=instructor.id, authorization_request_id=request.id))
    db.session.commit()
    return request


def test_the_request_page_costs_the_same_few_statements_whatever_it_shows(
    app, client, db, instructor
):
    plain = submitted_request()
    rich = _rich_request(app, db, instructor)
    counts = {}
    for request in (plain, rich):
        url = f"/instruction/demandes/{request.id}"
        client.get(url)  # marks the applicant's messages read (a write, then the page again)
        counts[request.id] = len(page_statements(client, url))
    assert counts[plain.id] == counts[rich.id] <= MAX_STATEMENTS, counts


def test_a_rich_request_page_loads_nothing_lazily(app, client, db, instructor):
    url = f"/instruction/demandes/{_rich_request(app, db, instructor).id}"
    db.session.expunge_all()  # as in production: the page starts with nothing loaded
    with recorded_lazy_loads() as loads:
        page = client.get(url).text
    assert loads == []
    assert "Réponse 2" in page and "deliberation.pdf" in page and "annexe.pdf" in page
    assert "Vérifié" in page and "Ne plus suivre" in page


def _summary(page: str) -> str:
    start = page.index("<h2>Le contenu de la demande</h2>")
    return page[start : page.index("<h2>Habilitations</h2>", start)]


def test_a_change_to_the_answers_shows_at_once(app, client, db, instructor):
    request = submitted_request(description="Instruire les aides facultatives.")
    url = f"/instruction/demandes/{request.id}"
    assert "Instruire les aides facultatives." in _summary(client.get(url).text)
    cached = len(fragment_cache())
    assert "Instruire les aides facultatives." in _summary(client.get(url).text)
    assert len(fragment_cache()) == cached  # the same version: rendered once

    with app.test_request_context():
        decisions.decide(
            request, "request_changes", instructor, version=request.version, reason="x"
        )
    catalog_form = get_catalog().form(request.form_uid)
    authorization_requests.fill_request(
        request, catalog_form, {"description": "Instruire aussi les secours d’urgence."}
    )
    with app.test_request_context():
        result = submission.submit_request(
            request, catalog_form, request.applicant, terms_accepted=True, dpo_informed=True
        )
    assert result.ok, result.errors

    summary = _summary(client.get(url).text)
    assert "Instruire aussi les secours d’urgence." in summary
    assert "Instruire les aides facultatives." not in summary


def test_a_documents_scan_shows_at_once_though_the_request_is_unchanged(client, db, instructor):
    request = submitted_request()
    document = _document(request, "deliberation.pdf", scan_state=SCAN_PENDING)
    db.session.commit()
    url = f"/instruction/demandes/{request.id}"
    download = f"/demandes/{request.id}/documents/{document.id}"
    version = request.version
    assert download not in _summary(client.get(url).text)  # waiting for its malware scan

    document.scan_state = SCAN_CLEAN
    db.session.commit()
    assert request.version == version
    assert download in _summary(client.get(url).text)


def test_every_reader_sees_the_same_answers(client, db, login_as):
    request = submitted_request()
    url = f"/instruction/demandes/{request.id}"
    login_as(roles=[INSTRUCTOR])
    as_instructor = client.get(url).text
    login_as(roles=["api_particulier:reporter"])
    as_reporter = client.get(url).text
    assert _summary(as_instructor) == _summary(as_reporter)
    assert "Marquer comme traité" not in as_reporter
    login_as(roles=["autre_definition:instructor"])
    assert client.get(url).status_code == 404  # the cache never skips the permission check


def test_the_answers_are_read_only_when_rendered_again(app, client, db, instructor):
    request = submitted_request(description="Instruire les aides facultatives.")
    url = f"/instruction/demandes/{request.id}"
    db.session.expunge_all()
    with recorded_lazy_loads() as loads:
        assert "Instruire les aides facultatives." in _summary(client.get(url).text)
    assert loads == []  # rendered: the answers and documents loaded on purpose
    statements = page_statements(client, url)  # the fragment kept: no answers read
    assert not [s for s in statements if re.search(r"authorization_requests\.data\b", s)]
    assert "Instruire les aides facultatives." in _summary(client.get(url).text)


def test_a_page_whose_messages_are_read_writes_nothing(app, client, db, instructor):
    request = _rich_request(app, db, instructor)
    url = f"/instruction/demandes/{request.id}"
    assert [s for s in page_statements(client, url) if s.startswith("UPDATE")]  # unread
    statements = page_statements(client, url)
    assert not [s for s in statements if s.startswith(("UPDATE", "BEGIN IMMEDIATE"))]


def test_the_timeline_shows_the_newest_event_first(client, db, instructor):
    page = client.get(f"/instruction/demandes/{submitted_request().id}").text
    history = page[page.index('<h2 class="fr-mt-6w">Historique</h2>') :]
    assert history.index("Soumission de la demande") < history.index("Création de la demande")


def test_the_page_offers_the_decisions_the_request_allows(app, client, db, instructor):
    """The page reads the request as columns (``request_page.PageRequest``): the workflow's
    rules see there what they see on the model (state, reopening, habilitations)."""
    approved = approved_request(app)
    reopened = approved_request(app)
    with app.test_request_context():
        authorization_requests.reopen_request(reopened, reopened.applicant)
    assert reopened.is_reopening and reopened.has_active_authorization
    for request in (submitted_request(), approved, reopened):
        page = request_page.load(request.id, instructor.id, [])
        for role in workflow.ROLES:
            expected = workflow.allowed_events(request, role)
            assert workflow.allowed_events(page.authorization_request, role) == expected
            assert page.authorization_request.is_reopening == request.is_reopening


@pytest.mark.parametrize("script_root", ["", "/datapass"])
def test_the_decisions_link_to_their_pages(app, client, db, instructor, script_root):
    request = submitted_request()
    url = f"/instruction/demandes/{request.id}"
    page = client.get(url, environ_overrides={"SCRIPT_NAME": script_root}).text
    with app.test_request_context(environ_overrides={"SCRIPT_NAME": script_root}):
        for event in ("request_changes", "approve", "refuse"):
            path = url_for("instruction.decide", request_id=request.id, event=event)
            assert path.startswith(f"{script_root}/instruction/")
            assert f'href="{path}"' in page


@pytest.mark.parametrize("script_root", ["", "/datapass"])
def test_the_processed_paths_are_url_for_s(app, script_root):
    """« Marquer comme traité »: the path built once per application, then per message."""
    from datapass.views.request_fragments import processed_paths

    with app.test_request_context(environ_base={"SCRIPT_NAME": script_root}):
        path = processed_paths(12)
        for message_id in (1, 7, 2**31 - 2, 2**31 - 1):
            assert path(message_id) == url_for(
                "instruction.mark_processed", request_id=12, message_id=message_id
            )


def test_each_applicant_message_has_its_processed_form(app, client, db, instructor):
    request = _rich_request(app, db, instructor)
    page = client.get(f"/instruction/demandes/{request.id}").text
    actions = re.findall(r'action="(/instruction/demandes/\d+/messages/\d+/traite)"', page)
    applicant_messages = [m for m in request.messages if m.sender_side == APPLICANT_SIDE]
    assert actions == [
        f"/instruction/demandes/{request.id}/messages/{m.id}/traite" for m in applicant_messages
    ]
