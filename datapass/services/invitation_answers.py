"""What the instruction prepares in an invitation besides its recipient: the answers of
any block of the démarche and documents (e.g. the délibération).

Answers are cleaned by ``blocks.clean_answers`` and checked by the block's own form, as the
applicant's steps are, but nothing is required yet: only the fields filled in are checked
(the applicant completes the rest before submitting). Documents go through the same checks
as the applicant's uploads (``services/documents.py``: size, PDF content, active content,
malware scan) and are stored with the invitation; claiming it moves them to the draft
(``move_documents``); cancelling it, its expiry (``purge_expired``, a periodic task) or the
purge deletes them with their files. An invitation never claimed is forgotten
``INVITATION_RETENTION_DAYS`` after its expiry or cancellation (``forget``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import or_, select

from datapass import blocks
from datapass.extensions import db
from datapass.models import AuthorizationRequest, Document, Invitation, User
from datapass.models.base import utcnow
from datapass.services import documents
from datapass.services.authorization_requests import posted_answers


@dataclass
class PreparedAnswers:
    """An invitation's answers seen as the blocks see a request (``data``, ``documents``):
    the démarche's defaults under what the instruction prepared."""

    data: dict[str, Any]
    documents: list[Document]
    events: tuple = ()  # no timeline yet (blocks look for the « create » event)
    organization_id: int | None = None


def prepared_answers(invitation: Invitation, catalog_form) -> PreparedAnswers:
    """The démarche's defaults under the prepared answers (as the claimed draft will hold
    them: ``authorization_requests.new_draft``)."""
    data = {**catalog_form.initial_answers({}), **(invitation.answers or {})}
    return PreparedAnswers(catalog_form.enforce_locks(data), list(invitation.documents))


@dataclass
class BlockOutcome:
    errors: dict[str, list[str]] = field(default_factory=dict)  # field → messages
    stay: bool = False  # a document removed: show the block again

    @property
    def ok(self) -> bool:
        return not self.errors


def editable_blocks(catalog_form) -> tuple[str, ...]:
    """The blocks the instruction may answer: those the applicant fills."""
    return catalog_form.editable_steps


def filled_errors(
    catalog_form, block_id: str, answers: Mapping[str, Any], holder: PreparedAnswers
) -> dict[str, list[str]]:
    """The block's own checks, for the fields filled in only (nothing is required yet)."""
    errors = blocks.get(block_id).validate(catalog_form, holder)
    return {name: messages for name, messages in errors.items() if answers.get(name)}


def save_block(
    invitation: Invitation,
    catalog_form,
    block_id: str,
    formdata,
    *,
    user: User,
    files=None,
    remove_document: str | None = None,
) -> BlockOutcome:
    """Save the answers of one block (and its uploads). Commits, unless a filled field is
    refused: then nothing is saved and the errors say why, next to their fields."""
    from datapass.services.invitations import InvitationError

    if not invitation.is_open:
        raise InvitationError("Cette demande préparée ne peut plus être modifiée.")
    block = blocks.get(block_id)
    raw = posted_answers(catalog_form, block_id, formdata)
    answers, _ = blocks.clean_answers(
        catalog_form, raw, fields=block.answer_fields(catalog_form), bounded=False
    )
    current = prepared_answers(invitation, catalog_form)
    holder = PreparedAnswers({**current.data, **answers}, current.documents)
    outcome = BlockOutcome(errors=filled_errors(catalog_form, block_id, answers, holder))
    if outcome.errors:
        return outcome
    kept = {k: v for k, v in (invitation.answers or {}).items() if k not in answers}
    # A blank text is « not answered » (the default, if any, stays); a list is kept even
    # empty (every default scope unticked is an answer).
    invitation.answers = {**kept, **{k: v for k, v in answers.items() if v != ""}}
    for name in block.document_fields:
        if remove_document and remove_document.isdigit():
            outcome.stay = documents.remove_document(invitation, int(remove_document)) is not None
        _, problems = documents.attach_documents(
            invitation, name, files.getlist(name) if files else [], user=user
        )
        if problems:
            outcome.errors[name] = problems
    db.session.commit()
    return outcome


def move_documents(invitation: Invitation, authorization_request: AuthorizationRequest) -> int:
    """The invitation's documents now belong to the claimed draft (same stored files, no
    copy to make). No commit."""
    moved = list(invitation.documents)
    for document in moved:
        invitation.documents.remove(document)
        authorization_request.documents.append(document)
    return len(moved)


def delete_documents(invitation: Invitation) -> int:
    """Delete the invitation's documents; their files go once the caller commits."""
    removed = list(invitation.documents)
    for document in removed:
        invitation.documents.remove(document)
        documents.delete_document(document)
    return len(removed)


def forget(invitation: Invitation) -> None:
    """What was prepared for the future applicant, and whom it was for, are erased (the
    row stays, without personal data, for the instruction's counts). No commit."""
    delete_documents(invitation)
    invitation.answers, invitation.note, invitation.email = {}, None, ""


def purge_expired(now: datetime | None = None) -> int:
    """A periodic task: the documents of invitations expired (never claimed) are deleted,
    with their files; ``INVITATION_RETENTION_DAYS`` after their expiry or cancellation,
    unclaimed invitations are forgotten (answers, note, email). Returns how many
    documents and invitations went. Commits."""
    now = now or utcnow()
    kept_since = now - timedelta(days=current_app.config["INVITATION_RETENTION_DAYS"])
    stale = db.session.scalars(
        select(Invitation).where(
            Invitation.claimed_at.is_(None),
            Invitation.email != "",
            or_(Invitation.expires_at <= kept_since, Invitation.cancelled_at <= kept_since),
        )
    ).all()
    for invitation in stale:
        forget(invitation)
    expired = db.session.scalars(
        select(Invitation).where(
            Invitation.id.in_(select(Document.invitation_id)),
            Invitation.claimed_at.is_(None),
            Invitation.expires_at.is_not(None),
            Invitation.expires_at <= now,
        )
    ).all()
    count = sum(delete_documents(invitation) for invitation in expired)
    db.session.commit()
    return count + len(stale)
