"""The RGPD purge, a daily periodic task and ``flask rgpd purge [--dry-run]`` (docs/lifecycle.md).

A request closed for ``RETENTION_MONTHS_AFTER_CLOSURE`` months (24) is purged: refused,
archived or revoked that long ago, or validated with every habilitation revoked or with no
token valid since then. ``purge_request`` — the one place that anonymises — keeps the
skeleton the statistics need (dates, states, démarche, organisation and its SIRET, scopes)
and a ``purge`` timeline event; everything a person wrote or is named in goes: answers and
intitulé, the habilitations' snapshots, contacts, documents (through the storage interface),
messages' bodies, reasons and payloads of the timeline, the emails' and webhooks' bodies of
the outbox and the webhooks' attempt log. The remembered contacts of the organisation that
came from this request are forgotten too (a purged request is never a source again).
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import and_, delete, exists, func, or_, select

from datapass import workflow
from datapass.extensions import db
from datapass.models import (
    ApiToken,
    Authorization,
    AuthorizationRequest,
    AuthorizationRequestEvent,
    Invitation,
    OutboxJob,
    RequestContact,
    WebhookAttempt,
)
from datapass.models.authorization import AUTHORIZATION_ACTIVE, AUTHORIZATION_REVOKED
from datapass.models.base import utcnow
from datapass.models.outbox import JOB_DEAD, JOB_PENDING
from datapass.services import documents as documents_service
from datapass.services import invitation_answers, search_index

logger = logging.getLogger(__name__)

PURGE = "purge"
CLOSING_EVENTS = ("refuse", "archive", "revoke")
CLOSED_STATES = (workflow.REFUSED, workflow.ARCHIVED, workflow.REVOKED)
# The answers kept: what was asked for (the statistics count requests by scope).
KEPT_ANSWERS = ("scopes",)
# Timeline payload keys that name no one: states, flags, ids, counts.
KEPT_PAYLOAD_KEYS = frozenset(
    {
        "from",
        "to",
        "first_submission",
        "reopening",
        "authorization",
        "token_kept",
        "automatic",
        "warning",
        "rank",
        "months",
        "days",
        "version",
        "client_id",
    }
)
PURGED_JOB_ERROR = "Contenu supprimé par la purge RGPD"


@dataclass(frozen=True)
class Purged:
    """What the purge removed from one request (the ``purge`` event's payload)."""

    documents: int
    messages: int
    outbox_jobs: int
    webhook_attempts: int

    def as_payload(self) -> dict[str, int]:
        return asdict(self)


def retention_cutoff(now: datetime) -> datetime:
    """Requests closed before this moment are purged."""
    return workflow.add_months(now, -current_app.config["RETENTION_MONTHS_AFTER_CLOSURE"])


def due_requests(now: datetime) -> list[AuthorizationRequest]:
    """The requests to purge now, oldest first."""
    cutoff = retention_cutoff(now)
    closed = (
        select(func.max(AuthorizationRequestEvent.created_at))
        .where(
            AuthorizationRequestEvent.authorization_request_id == AuthorizationRequest.id,
            AuthorizationRequestEvent.name.in_(CLOSING_EVENTS),
        )
        .scalar_subquery()
    )
    # A habilitation still in force at the cutoff: active with a token valid after it, or
    # revoked after it.
    in_force = exists().where(
        Authorization.authorization_request_id == AuthorizationRequest.id,
        or_(
            and_(Authorization.state == AUTHORIZATION_REVOKED, Authorization.revoked_at > cutoff),
            and_(
                Authorization.state == AUTHORIZATION_ACTIVE,
                ~exists().where(ApiToken.authorization_id == Authorization.id),
            ),
            exists().where(
                ApiToken.authorization_id == Authorization.id,
                Authorization.state == AUTHORIZATION_ACTIVE,
                ApiToken.expires_at > cutoff,
                or_(ApiToken.revoked_at.is_(None), ApiToken.revoked_at > cutoff),
            ),
        ),
    )
    ended = and_(
        AuthorizationRequest.state == workflow.VALIDATED,
        exists().where(Authorization.authorization_request_id == AuthorizationRequest.id),
        ~in_force,
    )
    return list(
        db.session.scalars(
            select(AuthorizationRequest)
            .where(
                AuthorizationRequest.purged_at.is_(None),
                or_(and_(AuthorizationRequest.state.in_(CLOSED_STATES), closed <= cutoff), ended),
            )
            .order_by(AuthorizationRequest.id)
        )
    )


def run(now: datetime) -> int:
    """The periodic task: purge every request due; how many were purged."""
    return len([purge_request(item, now=now) for item in due_requests(now)])


def purge_request(authorization_request: AuthorizationRequest, *, now: datetime | None = None):
    """Anonymise one request, its habilitations and what was sent about it; commits, then
    the stored files are deleted. Returns what went (``Purged``)."""
    now = now or utcnow()
    request_id = authorization_request.id
    _anonymise_answers(authorization_request)
    db.session.execute(
        delete(RequestContact).where(RequestContact.authorization_request_id == request_id)
    )
    for event in authorization_request.events:
        event.reason = None
        event.payload = {k: v for k, v in (event.payload or {}).items() if k in KEPT_PAYLOAD_KEYS}
    messages = 0
    for message in authorization_request.messages:
        message.body = ""
        messages += 1
    stored = {document.id: document for document in authorization_request.documents}
    for authorization in authorization_request.authorizations:
        _anonymise_answers(authorization)
        authorization.message = None
        authorization.revocation_reason = None
        stored.update({document.id: document for document in authorization.documents})
    for document in stored.values():
        documents_service.delete_document(document)
    purged = Purged(
        documents=len(stored),
        messages=messages,
        outbox_jobs=_clear_outbox(request_id),
        webhook_attempts=db.session.execute(
            delete(WebhookAttempt).where(WebhookAttempt.authorization_request_id == request_id)
        ).rowcount,
    )
    for invitation in db.session.scalars(
        select(Invitation).where(Invitation.authorization_request_id == request_id)
    ):  # what was prepared for the applicant, and whom it was sent to
        invitation_answers.forget(invitation)
    _forget_remembered_contacts(authorization_request)
    authorization_request.purged_at = now
    authorization_request.record_event(PURGE, actor=None, at=now, payload=purged.as_payload())
    db.session.flush()
    # Its search document still names the applicant: gone with the rest.
    search_index.forget([request_id])
    db.session.commit()  # the documents' files are deleted now (documents.register)
    logger.info("request %s purged", request_id)
    return purged


def _anonymise_answers(item: AuthorizationRequest | Authorization) -> None:
    data = item.data or {}
    item.data = {key: data[key] for key in KEPT_ANSWERS if key in data}
    if isinstance(item, AuthorizationRequest):
        item.intitule = None


def _clear_outbox(request_id: int) -> int:
    """Empty the bodies of the emails and webhooks about the request; a job still waiting
    is not sent any more (dead)."""
    jobs = db.session.scalars(
        select(OutboxJob).where(
            OutboxJob.payload["authorization_request_id"].as_integer() == request_id
        )
    ).all()
    for job in jobs:
        job.payload = {"key": job.payload.get("key"), "authorization_request_id": request_id}
        if job.state == JOB_PENDING:
            job.state, job.last_error = JOB_DEAD, PURGED_JOB_ERROR
    return len(jobs)


def _forget_remembered_contacts(authorization_request: AuthorizationRequest) -> None:
    """The copies of this request's contacts kept on the ``create`` events of the
    organisation's later requests (which the form offered as remembered) go too."""
    reference = authorization_request.public_reference
    later = db.session.scalars(
        select(AuthorizationRequestEvent)
        .join(AuthorizationRequestEvent.request)
        .where(
            AuthorizationRequest.organization_id == authorization_request.organization_id,
            AuthorizationRequestEvent.name == "create",
            AuthorizationRequestEvent.authorization_request_id != authorization_request.id,
        )
    )
    for event in later:
        payload = event.payload or {}
        if payload.get("contacts_from") == reference:
            event.payload = {
                key: value
                for key, value in payload.items()
                if key not in ("remembered_contacts", "contacts_from")
            }


def describe(authorization_request: AuthorizationRequest) -> str:
    """One line of ``flask rgpd purge --dry-run``: no personal data."""
    return (
        f"{authorization_request.public_reference}\t{authorization_request.state}\t"
        f"{authorization_request.form_uid}\t{len(authorization_request.documents)} document(s)"
    )
