"""What the instruction request page shows, loaded in a constant and small number of statements.

- the request, its organisation, the applicant's email, the applicant's membership of the
  organisation (and who verified it), whether the viewer follows the request: **one** statement
  (outer joins on unique keys);
- its timeline and its messages with their authors' emails, and what the answers' fragment
  depends on of its documents (``views/request_fragments.py``): one statement each, selecting
  the columns shown as plain rows on the session's connection (an ORM entity costs its row
  processors' set-up at every execution: about three times a plain statement);
- its habilitations: one statement, as ``Authorization`` objects put into
  ``authorization_request.authorizations`` (the workflow's rules read them).

The answers (the request's ``data``) and the documents as objects are loaded only when the
answers' fragment is rendered again (``load_answers``: a new version of the request or of its
documents). The statements are
built once per process (not at every request): SQLAlchemy then reuses their compiled SQL and
cache keys.

``tests/views/test_request_page.py`` checks the count and that nothing loads lazily.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, select
from sqlalchemy.orm import aliased, defer, joinedload
from sqlalchemy.orm.attributes import set_committed_value

from datapass import workflow
from datapass.extensions import db
from datapass.models import (
    Authorization,
    AuthorizationRequest,
    AuthorizationRequestEvent,
    Document,
    Membership,
    Message,
    Organization,
    RequestFollow,
    User,
)


@dataclass(frozen=True, slots=True)
class TimelineEvent:
    """An event of the timeline: what the page says of it (``presenter.describe_event``)."""

    id: int
    name: str
    reason: str | None
    payload: dict[str, Any] | None
    created_at: datetime

    @property
    def label(self) -> str:
        return workflow.EVENT_LABELS.get(self.name, self.name)


@dataclass(slots=True)
class RequestPage:
    authorization_request: AuthorizationRequest
    applicant_email: str
    membership: Membership | None
    verifier_email: str | None  # who verified the membership, if someone did
    following: bool  # does the viewer follow the request
    # (event, its author's email), newest first, as the timeline shows them
    events: list[tuple[TimelineEvent, str | None]]
    # (message, its author's email), oldest first; a message: a row of ``MESSAGE_COLUMNS``
    messages: list[tuple[Any, str]]
    # what the answers' fragment depends on: a row of ``DOCUMENT_COLUMNS`` per document
    documents: list[Any]


# The columns the page reads (rows with these attributes).
MESSAGE_COLUMNS = (
    Message.id,
    Message.sender_side,
    Message.body,
    Message.read_at,
    Message.processed_at,
    Message.created_at,
)
EVENT_COLUMNS = (
    AuthorizationRequestEvent.id,
    AuthorizationRequestEvent.name,
    AuthorizationRequestEvent.reason,
    AuthorizationRequestEvent.payload,
    AuthorizationRequestEvent.created_at,
)
DOCUMENT_COLUMNS = (
    Document.id,
    Document.field,
    Document.filename,
    Document.size,
    Document.scan_state,
    Document.text_state,
)


@functools.cache
def _statements():
    """The page's statements, built once per process: their SQL compilation is cached
    by SQLAlchemy, and an already built statement also skips recomputing its cache key."""
    applicant = aliased(User)
    verifier = aliased(User)
    request_id = bindparam("request_id")
    page = (
        select(AuthorizationRequest, applicant.email, Membership, verifier.email, RequestFollow.id)
        .join(applicant, applicant.id == AuthorizationRequest.applicant_id)
        .outerjoin(
            Membership,
            and_(
                Membership.user_id == AuthorizationRequest.applicant_id,
                Membership.organization_id == AuthorizationRequest.organization_id,
            ),
        )
        .outerjoin(verifier, verifier.id == Membership.verified_by_id)
        .outerjoin(
            RequestFollow,
            and_(
                RequestFollow.authorization_request_id == AuthorizationRequest.id,
                RequestFollow.user_id == bindparam("viewer_id"),
            ),
        )
        .where(AuthorizationRequest.id == request_id)
        # Not the JSON the page does not show: the answers (some kB to decode) are read when
        # they are rendered again (``load_answers``), the registry's payload never.
        .options(
            joinedload(AuthorizationRequest.organization).defer(Organization.insee_payload),
            defer(AuthorizationRequest.data),
        )
    )
    documents = (
        select(*DOCUMENT_COLUMNS)
        .where(Document.authorization_request_id == request_id)
        .order_by(Document.id)
    )
    authorizations = (
        select(Authorization)
        .where(Authorization.authorization_request_id == request_id)
        .order_by(Authorization.id)
    )
    events = (
        select(*EVENT_COLUMNS, User.email)
        .outerjoin(User, User.id == AuthorizationRequestEvent.user_id)
        .where(AuthorizationRequestEvent.authorization_request_id == request_id)
        # Newest first, as the timeline shows them.
        .order_by(AuthorizationRequestEvent.created_at.desc(), AuthorizationRequestEvent.id.desc())
    )
    messages = (
        select(*MESSAGE_COLUMNS, User.email)
        .join(User, User.id == Message.author_id)
        .where(Message.authorization_request_id == request_id)
        .order_by(Message.id)
    )
    # What an earlier statement of the same session loaded may be stale (tests share it).
    return (
        page.execution_options(populate_existing=True),
        events,
        messages,
        documents,
        authorizations.execution_options(populate_existing=True),
    )


@functools.cache
def _answers_statements():
    request_id = bindparam("request_id")
    return (
        select(AuthorizationRequest.data).where(AuthorizationRequest.id == request_id),
        select(Document)
        .where(Document.authorization_request_id == request_id)
        .order_by(Document.id)
        .execution_options(populate_existing=True),
    )


def load_answers(authorization_request: AuthorizationRequest) -> None:
    """Put the request's answers and documents into ``authorization_request.data`` and
    ``.documents`` (the blocks' summary reads them): when the answers are rendered again only
    (``load`` leaves them out)."""
    data, documents = _answers_statements()
    parameters = {"request_id": authorization_request.id}
    set_committed_value(
        authorization_request, "data", db.session.connection().execute(data, parameters).scalar()
    )
    set_committed_value(
        authorization_request, "documents", list(db.session.scalars(documents, parameters))
    )


def load(request_id: int, viewer_id: int) -> RequestPage | None:
    """The page's data, or None when there is no such request (the view checks permissions)."""
    page, events_statement, messages_statement, documents, authorizations = _statements()
    row = db.session.execute(page, {"request_id": request_id, "viewer_id": viewer_id}).first()
    if row is None:
        return None
    authorization_request, applicant_email, membership, verifier_email, follow_id = row
    parameters = {"request_id": request_id}
    connection = db.session.connection()
    events = [
        (TimelineEvent(*event[:-1]), event.email)
        for event in connection.execute(events_statement, parameters)
    ]
    messages = [
        (message, message.email) for message in connection.execute(messages_statement, parameters)
    ]
    # The collection the workflow's rules read, as the relationship would have loaded it.
    set_committed_value(
        authorization_request,
        "authorizations",
        list(db.session.scalars(authorizations, parameters)),
    )
    return RequestPage(
        authorization_request=authorization_request,
        applicant_email=applicant_email,
        membership=membership,
        verifier_email=verifier_email,
        following=follow_id is not None,
        events=events,
        messages=messages,
        documents=list(connection.execute(documents, parameters)),
    )
