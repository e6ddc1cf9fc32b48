"""What the instruction request page shows, loaded in a constant and small number of statements.

- the request, its organisation, its habilitations (the workflow's rules read them), the
  applicant's email, the applicant's membership of the organisation (and who verified it),
  whether the viewer follows the request: **one** statement (outer joins on unique keys, and
  one row per habilitation);
- its timeline, its messages with their authors' emails, what the answers' fragment depends
  on of its documents (``views/request_fragments.py``) and the message templates of its
  definition: **one** statement (``UNION ALL`` of the four lists' columns, as plain rows on
  the session's connection: an ORM entity costs its row processors' set-up at every
  execution, about three times a plain statement, and each statement a round trip);

The answers (the request's ``data``) and the documents as objects are loaded only when the
answers' fragment is rendered again (``load_answers``: a new version of the request or of its
documents). The statements are built once per process (not at every request): SQLAlchemy
then reuses their compiled SQL and cache keys.

``tests/views/test_request_page.py`` checks the count and that nothing loads lazily.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import and_, bindparam, cast, literal, null, select, union_all
from sqlalchemy.orm import aliased, defer, joinedload
from sqlalchemy.orm.attributes import set_committed_value

from datapass import workflow
from datapass.extensions import db
from datapass.models import (
    AuthorizationRequest,
    AuthorizationRequestEvent,
    Document,
    Membership,
    Message,
    MessageTemplate,
    Organization,
    RequestFollow,
    User,
)
from datapass.models.organization import MembershipLabels, OrganizationLabels


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


@dataclass(frozen=True, slots=True)
class PageOrganization(OrganizationLabels):
    """The request's organisation: what the page shows of it."""

    id: int
    siret: str
    name: str | None
    address: str | None
    naf_code: str | None
    naf_label: str | None
    administrative_state: str | None
    last_refreshed_at: datetime | None


@dataclass(frozen=True, slots=True)
class PageMembership(MembershipLabels):
    """The applicant's membership of the request's organisation: what the page shows of it."""

    verified: bool
    verified_at: datetime | None
    verification_reason: str | None


ORGANIZATION_COLUMNS = tuple(
    getattr(Organization, name) for name in PageOrganization.__dataclass_fields__
)
MEMBERSHIP_COLUMNS = (Membership.verified, Membership.verified_at, Membership.verification_reason)


@dataclass(slots=True)
class RequestPage:
    authorization_request: AuthorizationRequest
    organization: PageOrganization
    applicant_email: str
    membership: PageMembership | None
    verifier_email: str | None  # who verified the membership, if someone did
    following: bool  # does the viewer follow the request
    # (event, its author's email), newest first, as the timeline shows them
    events: list[tuple[TimelineEvent, str | None]]
    # (message, its author's email), oldest first
    messages: list[tuple[PageMessage, str]]
    documents: list[PageDocument]
    message_templates: list[TemplateChoice]  # of the request's definition, by title


class PageMessage(NamedTuple):
    id: int
    sender_side: str
    body: str
    read_at: datetime | None
    processed_at: datetime | None
    created_at: datetime


class PageDocument(NamedTuple):
    """What the answers' fragment depends on of a document (``views/request_fragments.py``)."""

    id: int
    field: str
    filename: str
    size: int
    scan_state: str | None
    text_state: str | None


class TemplateChoice(NamedTuple):
    """A message template the instructor may start from."""

    id: int
    title: str
    content: str


# The page's lists in one statement: events, messages, documents, message templates, each
# a ``SELECT`` of the same columns (a kind, an id, two texts, then each kind's own, NULL for
# the others), ``UNION ALL``.
_KINDS = ("event", "message", "document", "template")
_OWN_COLUMNS = {
    "payload": AuthorizationRequestEvent.payload,
    "created_at": Message.created_at,
    "read_at": Message.read_at,
    "processed_at": Message.processed_at,
    "email": User.email,
    "size": Document.size,
    "scan_state": Document.scan_state,
    "text_state": Document.text_state,
}


def _list(kind: str, model, first: str, second: str, *own: str, email=None):
    """One kind's ``SELECT`` of ``model``: its id, two texts, its ``own`` columns named, the
    others typed NULLs (PostgreSQL matches the UNION's column types)."""
    columns = {name: getattr(model, name) for name in own}
    if email is not None:
        columns["email"] = email
    return select(
        literal(kind).label("kind"),
        model.id.label("id"),
        getattr(model, first).label("first"),
        getattr(model, second).label("second"),
        *(
            columns.get(name, cast(null(), column.type)).label(name)
            for name, column in _OWN_COLUMNS.items()
        ),
    )


@functools.cache
def _lists_statement():
    request_id = bindparam("request_id")
    event, message, document = AuthorizationRequestEvent, Message, Document
    events = (
        _list("event", event, "name", "reason", "payload", "created_at", email=User.email)
        .outerjoin(User, User.id == event.user_id)
        .where(event.authorization_request_id == request_id)
    )
    message_columns = ("created_at", "read_at", "processed_at")
    messages = (
        _list("message", message, "sender_side", "body", *message_columns, email=User.email)
        .join(User, User.id == message.author_id)
        .where(message.authorization_request_id == request_id)
    )
    documents = _list(
        "document", document, "field", "filename", "size", "scan_state", "text_state"
    ).where(document.authorization_request_id == request_id)
    templates = _list("template", MessageTemplate, "title", "content").where(
        MessageTemplate.definition_id == bindparam("definition"),
        MessageTemplate.kind == "message",
    )
    # The templates by title (the database's collation); the others are sorted in Python.
    return union_all(events, messages, documents, templates).order_by("kind", "first", "id")


def _lists(request_id: int, definition_id: str):
    """The events (newest first), messages, documents (oldest first) and message templates
    (by title) of the page, from one statement."""
    lists: dict[str, list] = {kind: [] for kind in _KINDS}
    rows = db.session.connection().execute(
        _lists_statement(), {"request_id": request_id, "definition": definition_id}
    )
    for row in rows:
        lists[row.kind].append(row)
    events = [
        (TimelineEvent(r.id, r.first, r.second, r.payload, r.created_at), r.email)
        for r in sorted(lists["event"], key=lambda r: (r.created_at, r.id), reverse=True)
    ]
    messages = [
        (PageMessage(r.id, r.first, r.second, r.read_at, r.processed_at, r.created_at), r.email)
        for r in sorted(lists["message"], key=lambda r: r.id)
    ]
    documents = [
        PageDocument(r.id, r.first, r.second, r.size, r.scan_state, r.text_state)
        for r in sorted(lists["document"], key=lambda r: r.id)
    ]
    templates = [TemplateChoice(r.id, r.first, r.second) for r in lists["template"]]
    return events, messages, documents, templates


@functools.cache
def _statements():
    """The page's statements, built once per process: their SQL compilation is cached
    by SQLAlchemy, and an already built statement also skips recomputing its cache key."""
    applicant = aliased(User)
    verifier = aliased(User)
    request_id = bindparam("request_id")
    page = (
        select(
            AuthorizationRequest,
            applicant.email,
            Membership.id,
            *MEMBERSHIP_COLUMNS,
            verifier.email,
            RequestFollow.id,
            *ORGANIZATION_COLUMNS,
        )
        .join(applicant, applicant.id == AuthorizationRequest.applicant_id)
        .join(Organization, Organization.id == AuthorizationRequest.organization_id)
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
        # Not the answers (some kB of JSON to decode): read when they are rendered again
        # (``load_answers``). The organisation and membership as columns (no ORM objects).
        .options(
            # A few at most (one per validation): the rows they add cost less than a statement.
            joinedload(AuthorizationRequest.authorizations),
            defer(AuthorizationRequest.data),
        )
    )
    # What an earlier statement of the same session loaded may be stale (tests share it).
    return page.execution_options(populate_existing=True)


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
    parameters = {"request_id": request_id, "viewer_id": viewer_id}
    # All the rows (one per habilitation), made one by ``unique``.
    rows = db.session.execute(_statements(), parameters).unique().all()
    if not rows:
        return None
    row = rows[0]
    authorization_request, applicant_email, membership_id = row[:3]
    verifier_email, follow_id = row[6:8]
    events, messages, documents, templates = _lists(request_id, authorization_request.definition_id)
    return RequestPage(
        authorization_request=authorization_request,
        organization=PageOrganization(*row[8:]),
        applicant_email=applicant_email,
        membership=None if membership_id is None else PageMembership(*row[3:6]),
        verifier_email=verifier_email,
        following=follow_id is not None,
        events=events,
        messages=messages,
        documents=documents,
        message_templates=templates,
    )
