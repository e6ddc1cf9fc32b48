"""The whole life of a request left unanswered, then the RGPD purge (services/purge.py).

The walk: submitted (the deadline badge in the queue), changes requested, two reminders, the
warning, the archiving (another request, changed after its warning, stays), then the purge
``RETENTION_MONTHS_AFTER_CLOSURE`` months later. After it, no personal value of the request
is left in any text column of any table, nor in storage, and the statistics' counts are
the same.
"""

from __future__ import annotations

import io
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import JSON, String, Text, select
from werkzeug.datastructures import FileStorage

from datapass import outbox, workflow
from datapass.extensions import db as _db
from datapass.models import AuthorizationRequest, Document, OutboxJob, WebhookAttempt
from datapass.models.base import utcnow
from datapass.models.message import APPLICANT_SIDE, INSTRUCTOR_SIDE
from datapass.services import (
    authorization_requests,
    decisions,
    documents,
    messaging,
    purge,
    reminders,
)
from datapass.storage import get_storage
from datapass.views.template_helpers import deadline_fr
from tests.factories import UserFactory
from tests.support.authorization_requests import submitted_request
from tests.support.http import reload
from tests.support.webhooks import make_webhook
from tests.support.wizard import contact_answers

pytestmark = pytest.mark.usefixtures("request_context")

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
FORM_UID = "api-particulier-ccas-arche-mc2"
# Free text the applicant and the instructors write: none of it may survive the purge.
FREE_TEXT = {
    "intitule": "Secours d’urgence Zanzibar-Quokka",
    "description": "Instruire les aides d’urgence de Mme Quokkabelle Zanzibar",
    "cadre_juridique_nature": "Délibération Quokka-Zanzibar du conseil",
    "destinataire_donnees_caractere_personnel": "Agents Quokka-Zanzibar du CCAS",
}
REASON = "Précisez la délibération Quokka-Raison"
MESSAGES = ("Question Quokka-Message-Un", "Réponse Quokka-Message-Deux")
FILENAME = "deliberation-quokka-fichier.pdf"
FILE_MARKER = b"quokka-file-content-marker"


def personal_contacts(form) -> dict[str, str]:
    """Every contact the applicant fills, with values found nowhere else."""
    answers = {}
    for index, (key, value) in enumerate(contact_answers(form).items()):
        if key.endswith("_email"):
            answers[key] = f"quokka.contact{index}@ccas-zanzibar.fr"
        elif key.endswith("_phone_number"):
            answers[key] = f"06 12 34 56 {index:02d}"
        else:
            answers[key] = f"{value} Quokka{index}"
    return answers


def sensitive_values(answers: dict[str, str]) -> set[str]:
    values = {value for value in answers.values() if "Quokka" in value or "quokka" in value}
    values |= {value for value in answers.values() if value.startswith("06 12 34 56")}
    return values | set(FREE_TEXT.values()) | {REASON, *MESSAGES, FILENAME}


def text_cells() -> list[tuple[str, str, str]]:
    """(table, column, text) of every text or JSON cell of every table."""
    cells = []
    connection = _db.session.connection()
    for table in _db.metadata.sorted_tables:
        columns = [c for c in table.columns if isinstance(c.type, String | Text | JSON)]
        columns += [c for c in table.columns if c.type.__class__.__name__ == "TypeDecorator"]
        if not columns:
            continue
        for row in connection.execute(select(*columns)):
            for column, value in zip(columns, row, strict=True):
                if value is not None:
                    cells.append((table.name, column.name, str(value)))
    return cells


def leftovers(values: set[str]) -> list[tuple[str, str, str]]:
    found = []
    for table, column, text in text_cells():
        # JSON is stored with its accents (json_serializer) but str() of a dict escapes none.
        found += [(table, column, value) for value in values if value in text]
    return found


def statistics() -> Counter:
    """What /stats counts: requests per state, month of creation and démarche, and scopes."""
    counts: Counter = Counter()
    for item in _db.session.scalars(select(AuthorizationRequest)):
        counts[(item.state, item.created_at.strftime("%Y-%m"), item.form_uid)] += 1
        counts[("siret", item.organization.siret)] += 1
        for scope in (item.data or {}).get("scopes", []):
            counts[("scope", scope)] += 1
    return counts


def test_a_request_left_unanswered_is_archived_then_purged_without_a_trace(
    app, db, client, login_as, httpserver
):
    httpserver.expect_request("/hook").respond_with_data("ok")
    make_webhook(httpserver)
    instructor = login_as(roles=["api_particulier:instructor"])
    form = authorization_requests.get_catalog().form(FORM_UID)
    contacts = personal_contacts(form)
    applicant = UserFactory()
    request = submitted_request(applicant, form_uid=FORM_UID, **contacts, **FREE_TEXT)
    values = sensitive_values(contacts)

    # The deadline badge in the queue.
    page = client.get("/instruction/tableau-de-bord/demandes?tri=echeance").text
    assert request.public_reference + "<" in page
    assert deadline_fr(reload(request).decision_deadline) in page

    # A document, messages both ways, changes requested.
    upload = FileStorage(stream=io.BytesIO(PDF + FILE_MARKER), filename=FILENAME)
    [document], errors = documents.attach_documents(
        request, "cadre_juridique_document", [upload], user=applicant
    )
    assert not errors
    _db.session.commit()
    storage_key = document.storage_key
    messaging.post_message(request, applicant, MESSAGES[0], side=APPLICANT_SIDE)
    messaging.post_message(request, instructor, MESSAGES[1], side=INSTRUCTOR_SIDE)
    decisions.decide(request, "request_changes", instructor, version=request.version, reason=REASON)
    asked = utcnow()
    outbox.drain()  # the emails (to the mailbox) and the webhooks (to the provider) go
    assert _db.session.scalars(select(WebhookAttempt)).all()

    # Another request, changed after its warning: it stays.
    other = submitted_request(form_uid=FORM_UID)
    decisions.decide(other, "request_changes", instructor, version=other.version, reason="?")

    # Reminders at one and two months, the warning at three, archiving 15 days later.
    for months in (1, 2, 3):
        assert reminders.run(workflow.add_months(asked, months) + timedelta(days=1)) == 2
    warned_at = workflow.add_months(asked, 3) + timedelta(days=1)
    authorization_requests.write_answers(other, form, {"intitule": "Toujours utile"})
    _db.session.commit()
    archived_at = warned_at + timedelta(days=16)
    assert reminders.run(archived_at) == 1
    assert reload(request).state == workflow.ARCHIVED
    assert reload(other).state == workflow.CHANGES_REQUESTED
    assert [e.name for e in reload(request).events][-4:] == [
        "changes_reminder",
        "changes_reminder",
        "archive_warning",
        "archive",
    ]
    outbox.drain()
    found = {(table, column) for table, column, _ in leftovers(values)}
    assert found >= {  # everything is still there before the purge
        ("authorization_request_contacts", "email"),
        ("authorization_request_events", "payload"),
        ("authorization_request_events", "reason"),
        ("authorization_requests", "data"),
        ("authorization_requests", "intitule"),
        ("documents", "filename"),
        ("messages", "body"),
        ("outbox_jobs", "payload"),
        ("webhook_attempts", "body"),
    }
    before = statistics()

    # Not before the retention period; then once.
    months = app.config["RETENTION_MONTHS_AFTER_CLOSURE"]
    assert months == 24
    assert purge.due_requests(workflow.add_months(archived_at, months) - timedelta(days=1)) == []
    purged_at = workflow.add_months(archived_at, months) + timedelta(days=1)
    assert purge.due_requests(purged_at) == [reload(request)]
    assert purge.run(purged_at) == 1
    assert purge.run(purged_at + timedelta(days=1)) == 0

    _db.session.expire_all()
    assert leftovers(values) == []
    # Nor is it found any more by its applicant's name in the free-text search.
    from datapass.models.search_document import search_documents

    indexed = select(search_documents).where(
        search_documents.c.authorization_request_id == request.id
    )
    assert _db.session.execute(indexed).first() is None
    assert not get_storage().exists(storage_key)
    root = get_storage().root
    assert not [p for p in root.rglob("*") if p.is_file() and FILE_MARKER in p.read_bytes()]
    assert (
        _db.session.scalars(select(Document).where(Document.storage_key == storage_key)).all() == []
    )
    assert statistics() == before
    request = reload(request)
    assert request.events[-1].name == "purge" and request.purged_at is not None
    assert request.data["scopes"] and request.state == workflow.ARCHIVED
    assert all(
        job.payload.keys() <= {"key", "authorization_request_id"}
        for job in _db.session.scalars(select(OutboxJob))
        if job.payload.get("authorization_request_id") == request.id
    )
    # The other request keeps its data.
    assert reload(other).data["intitule"] == "Toujours utile"


def approved(instructor, applicant=None):
    request = submitted_request(applicant, form_uid=FORM_UID)
    decisions.decide(request, "approve", instructor, version=request.version)
    return reload(request)


def test_a_refused_request_is_purged_24_months_after_the_refusal(db, instructor):
    request = submitted_request(form_uid=FORM_UID)
    decisions.decide(request, "refuse", instructor, version=request.version, reason="Non")
    refused_at = reload(request).events[-1].created_at
    assert purge.due_requests(workflow.add_months(refused_at, 24) - timedelta(hours=1)) == []
    assert purge.due_requests(workflow.add_months(refused_at, 24)) == [reload(request)]


def test_habilitations_revoked_or_expired_for_24_months(db, instructor):
    from datapass.models import ApiToken

    revoked = approved(instructor)
    decisions.decide(revoked, "revoke", instructor, version=revoked.version, reason="Fin")
    expired = approved(instructor)
    in_force = approved(instructor)
    [token] = _db.session.scalars(
        select(ApiToken).where(ApiToken.authorization_id == expired.authorizations[-1].id)
    ).all()
    now = workflow.add_months(token.expires_at, 24) + timedelta(days=1)
    for other in _db.session.scalars(
        select(ApiToken).where(ApiToken.authorization_id == in_force.authorizations[-1].id)
    ):
        other.expires_at = now + timedelta(days=30)  # prolonged: still in force
    _db.session.commit()
    assert set(purge.due_requests(now)) == {reload(revoked), reload(expired)}

    purged = purge.purge_request(reload(expired), now=now)
    assert purged.documents == 0
    authorization = reload(expired).authorizations[-1]
    assert authorization.data == {"scopes": reload(expired).data["scopes"]}
    assert authorization.state == "active"  # the statistics keep the states


def test_a_pending_email_of_a_purged_request_is_never_sent(db, instructor):
    request = submitted_request(form_uid=FORM_UID)
    decisions.decide(request, "refuse", instructor, version=request.version, reason="Non")
    jobs = [
        job
        for job in _db.session.scalars(select(OutboxJob))
        if job.payload.get("authorization_request_id") == request.id
    ]
    assert jobs and all(job.state == "pending" for job in jobs)
    purge.purge_request(reload(request))
    _db.session.expire_all()
    assert all(job.state == "dead" and "purge" in job.last_error for job in jobs)
    assert all("text" not in job.payload for job in jobs)


def test_remembered_contacts_of_a_purged_request_are_forgotten(db, instructor):
    from datapass.services import remembered_contacts

    form = authorization_requests.get_catalog().form(FORM_UID)
    contacts = personal_contacts(form)
    applicant = UserFactory()
    source = submitted_request(applicant, form_uid=FORM_UID, **contacts)
    decisions.decide(source, "approve", instructor, version=source.version)
    draft = authorization_requests.start_request_for_applicant(applicant, form)
    created = reload(draft).events[0]
    assert created.payload["contacts_from"] == source.public_reference
    assert created.payload["remembered_contacts"]

    purge.purge_request(reload(source))
    _db.session.expire_all()
    created = reload(draft).events[0]
    assert "remembered_contacts" not in created.payload
    assert "contacts_from" not in created.payload
    organization = reload(source).organization
    assert remembered_contacts.remembered_contacts(form, organization, applicant) == ({}, None)


def test_flask_rgpd_purge_dry_run_then_for_real(app, db, instructor):
    request = submitted_request(form_uid=FORM_UID)
    decisions.decide(request, "refuse", instructor, version=request.version, reason="Non")
    refusal = reload(request).events[-1]
    refusal.created_at = workflow.add_months(utcnow(), -25)
    _db.session.commit()
    runner = app.test_cli_runner()

    result = runner.invoke(args=["rgpd", "purge", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert f"{request.public_reference}\trefused\t{FORM_UID}" in result.output
    assert "Dry run: nothing was purged." in result.output
    assert reload(request).purged_at is None

    result = runner.invoke(args=["rgpd", "purge"])
    assert result.exit_code == 0, result.output
    assert "1 request(s) purged." in result.output
    assert reload(request).purged_at is not None
    assert "0 request(s)" in runner.invoke(args=["rgpd", "purge", "--dry-run"]).output


def test_the_purge_is_a_periodic_task(app):
    from datapass import periodic

    assert periodic.tasks()["rgpd_purge"].hour == app.config["PURGE_HOUR"] == 4


def test_the_privacy_page_states_the_configured_durations(app, client, monkeypatch):
    page = client.get("/donnees-personnelles").text
    assert "puis 24&nbsp;mois après sa clôture" in page
    assert "3&nbsp;ans" not in page
    monkeypatch.setitem(app.config, "RETENTION_MONTHS_AFTER_CLOSURE", 36)
    assert "puis 36&nbsp;mois après sa clôture" in client.get("/donnees-personnelles").text


def test_the_invitation_behind_a_purged_request_is_anonymised(db, instructor):
    from datapass.models import Invitation
    from datapass.services import invitations
    from tests.factories import OrganizationFactory

    form = authorization_requests.get_catalog().form(FORM_UID)
    organization = OrganizationFactory()
    invitation = invitations.prepare(
        form,
        siret=organization.siret,
        email="quokka.invite@ccas-zanzibar.fr",
        answers={"intitule": FREE_TEXT["intitule"]},
        note="Note Quokka-Invitation",
        user=instructor,
    )
    invitations.invite(invitation)
    agent = UserFactory(email="quokka.invite@ccas-zanzibar.fr", current_organization=organization)
    request = invitations.claim(invitation, agent)
    purge.purge_request(reload(request))
    invitation = _db.session.get(Invitation, invitation.id, populate_existing=True)
    assert (invitation.answers, invitation.note, invitation.email) == ({}, None, "")
    assert invitation.authorization_request_id == request.id and invitation.claimed_at
