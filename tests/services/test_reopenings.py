"""Reopenings done right: a document is a change; cancelled or refused, the documents come
back too; a refusal keeps the habilitation (its own email); an approval keeps the token."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from datapass import workflow
from datapass.crypto import unseal
from datapass.models import ApiToken, Document, OutboxJob, TokenReminder
from datapass.models.authorization import AUTHORIZATION_ACTIVE, AUTHORIZATION_OBSOLETE
from datapass.models.base import utcnow
from datapass.services import authorization_requests, decisions, documents, submission, tokens
from datapass.storage import get_storage
from tests.factories import UserFactory
from tests.support.authorization_requests import submitted_request
from tests.support.http import reload

FIELD = "cadre_juridique_document"
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
NBSP = "\u00a0"


# request_context (emails' links) and instructor: tests/services/conftest.py
pytestmark = pytest.mark.usefixtures("request_context")


def attach(request, name: str, content: bytes = PDF) -> Document:
    upload = FileStorage(stream=io.BytesIO(content + name.encode()), filename=name)
    [document], errors = documents.attach_documents(request, FIELD, [upload], user=None)
    assert not errors
    return document


def approved_with_document(db, instructor):
    """An approved request whose habilitation holds « acte.pdf » (asked for, then sent)."""
    applicant = UserFactory()
    request = submitted_request(applicant)
    decisions.decide(request, "request_changes", instructor, version=request.version, reason="?")
    attach(request, "acte.pdf")
    db.session.commit()
    assert submit(request, applicant).ok
    decisions.decide(request, "approve", instructor, version=request.version)
    return reload(request), applicant


def submit(request, applicant):
    form = authorization_requests.get_catalog().form(request.form_uid)
    return submission.submit_request(
        request, form, applicant, terms_accepted=True, dpo_informed=True
    )


def stored(document_key: str) -> bool:
    return get_storage().exists(document_key)


@pytest.mark.parametrize("change", ["add", "remove"])
def test_a_reopening_whose_only_change_is_a_document_can_be_submitted(db, instructor, change):
    request, applicant = approved_with_document(db, instructor)
    authorization_requests.reopen_request(request, applicant)
    unchanged = submit(request, applicant)
    assert unchanged.errors["summary"]["changes"] == [
        "Modifiez au moins une information avant de soumettre à nouveau cette habilitation."
    ]
    request = reload(request)
    if change == "add":
        attach(request, "avenant.pdf")
    else:
        documents.remove_document(request, request.documents[0].id)
    db.session.commit()
    result = submit(reload(request), applicant)
    assert result.ok, result.errors
    request = reload(request)
    assert request.state == workflow.SUBMITTED
    changes = request.events[-1].payload["changes"]
    key, name = (
        ("documents_added", "avenant.pdf") if change == "add" else ("documents_removed", "acte.pdf")
    )
    assert changes[key] == [name]


@pytest.mark.parametrize("who", ["applicant cancels", "instructor cancels", "instructor refuses"])
def test_cancelling_or_refusing_a_reopening_restores_the_documents(db, instructor, who):
    request, applicant = approved_with_document(db, instructor)
    [authorization] = request.authorizations
    [acte] = request.documents
    authorization_requests.reopen_request(request, applicant)
    documents.remove_document(request, acte.id)
    added = attach(request, "avenant.pdf")
    authorization_requests.write_answers(
        request, authorization_requests.get_catalog().form(request.form_uid), {"intitule": "V2"}
    )
    db.session.commit()
    added_id, added_key = added.id, added.storage_key
    assert stored(added_key)
    if who == "applicant cancels":
        authorization_requests.cancel_reopening(reload(request), applicant)
    else:
        assert submit(reload(request), applicant).ok
        request = reload(request)
        event = "refuse" if who == "instructor refuses" else "cancel_reopening"
        decisions.decide(request, event, instructor, version=request.version, reason="Non")
    request = reload(request)
    assert request.state == workflow.VALIDATED
    assert request.data == authorization.data
    assert [d.id for d in request.documents] == [acte.id] == [d.id for d in authorization.documents]
    assert db.session.get(Document, added_id) is None
    assert not stored(added_key) and stored(acte.storage_key)
    assert authorization.is_active and tokens.current_token(authorization).revoked_at is None


def test_refusing_a_reopening_says_the_habilitation_stays_valid_without_ways_of_appeal(
    db, instructor
):
    request, applicant = approved_with_document(db, instructor)
    [authorization] = request.authorizations
    authorization_requests.reopen_request(request, applicant)
    attach(request, "avenant.pdf")
    db.session.commit()
    assert submit(request, applicant).ok
    before = set(db.session.scalars(select(OutboxJob.id)))
    request = reload(request)
    decisions.decide(request, "refuse", instructor, version=request.version, reason="Incomplet")
    new = [
        job
        for job in db.session.scalars(select(OutboxJob).where(OutboxJob.kind == "email"))
        if job.id not in before
    ]
    assert [job.payload["key"] for job in new] == ["reopening_refused"]
    [job] = new
    assert job.payload["to"] == [applicant.email]
    assert job.payload["subject"] == (
        f"Les modifications de votre habilitation {request.public_reference} "
        "n’ont pas été acceptées"
    )
    text = job.payload["text"]
    assert (
        f"Vos modifications n’ont pas été acceptées{NBSP}; votre habilitation "
        f"{authorization.public_reference} reste valide"
    ) in text
    assert "Incomplet" in text
    assert "recours" not in text and "tribunal" not in text
    event = reload(request).events[-1]
    assert event.name == "refuse"
    assert event.payload["reopening"] is True
    assert event.payload["authorization"] == authorization.id


def test_approving_a_reopening_keeps_the_same_token_prolonged(db, instructor):
    request, applicant = approved_with_document(db, instructor)
    [first] = request.authorizations
    [token] = first.tokens
    value = unseal(token.sealed_value)
    # Reminders already sent for the current expiry start again with the new one.
    db.session.add(TokenReminder(token_id=token.id, days_before=90))
    token.expires_at = utcnow() + timedelta(days=30)
    db.session.commit()
    authorization_requests.reopen_request(request, applicant)
    form = authorization_requests.get_catalog().form(request.form_uid)
    authorization_requests.write_answers(request, form, {"intitule": "Version 2"})
    db.session.commit()
    assert submit(request, applicant).ok
    before = set(db.session.scalars(select(OutboxJob.id)))
    request = reload(request)
    started = utcnow()
    second = decisions.decide(request, "approve", instructor, version=request.version)
    request = reload(request)
    first, second = request.authorizations
    assert (first.state, second.state) == (AUTHORIZATION_OBSOLETE, AUTHORIZATION_ACTIVE)
    assert first.tokens == [] and [t.id for t in second.tokens] == [token.id]
    kept = db.session.get(ApiToken, token.id)
    assert kept.expires_at >= started + tokens.lifetime(second.definition_id)
    assert kept.scopes == second.data["scopes"] and kept.revoked_at is None
    assert tokens.find_active(value) == kept and kept.authorization == second
    assert db.session.scalars(select(TokenReminder)).all() == []
    assert request.events[-1].payload["token_kept"] == token.id
    keys = {
        job.payload["key"]
        for job in db.session.scalars(select(OutboxJob).where(OutboxJob.kind == "email"))
        if job.id not in before
    }
    assert "approved" in keys and "token_ready" not in keys  # the software has its token
    # Only « Renouveler le jeton » changes the token.
    rotated = tokens.rotate(second, applicant)
    assert rotated.id != token.id
