"""What the instruction request page shows, loaded in a constant and small number of statements.

- the request (its columns: no ORM object, whose loading cost about a fifth of the page),
  its organisation, the applicant's email, the applicant's membership of the organisation
  (and who verified it), whether the viewer follows the request: **one** row (outer joins on
  unique keys);
- its timeline, its messages with their authors' emails, what the answers' fragment depends
  on of its documents, the message templates of its definition, its habilitations (the
  workflow's rules read them) and the organisation's history (``organization_history``):
  **one** statement (``UNION ALL`` of the lists' columns, as plain rows on the session's
  connection: an ORM entity costs its row processors' set-up at every execution, about three
  times a plain statement, and each statement a round trip on PostgreSQL).

The answers (the request's ``data``) and the documents, with the request as an ORM object,
are loaded only when the answers' fragment is rendered again (``load_answers``: a new version
of the request or of its documents). The statements are built once per process (not at every
request): SQLAlchemy then reuses their compiled SQL and cache keys.

``tests/views/test_request_page.py`` checks the count and that nothing loads lazily.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Text, and_, bindparam, cast, literal, null, select, union_all
from sqlalchemy.orm import aliased
from sqlalchemy.orm.attributes import set_committed_value

from datapass import workflow
from datapass.database import read_connection
from datapass.extensions import db
from datapass.models import (
    Authorization,
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
from datapass.models.authorization import AuthorizationLabels
from datapass.models.authorization_request import HeldLabels, RequestLabels
from datapass.models.organization import MembershipLabels, OrganizationLabels
from datapass.services import organization_history
from datapass.services.compiled_once import CompiledOnce
from datapass.services.organization_history import OrganizationHistory


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


@dataclass(frozen=True, slots=True)
class PageAuthorization(AuthorizationLabels):
    """One of the request's habilitations: what the page and the workflow's rules read."""

    id: int
    state: str
    revocation_reason: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class PageRequest(RequestLabels, HeldLabels):
    """The request: what the page, the workflow's rules and the answers' key read of it
    (columns, no ORM object: its answers load with it on a cache miss, ``load_answers``)."""

    id: int
    public_id: str
    version: int
    form_uid: str
    definition_id: str
    organization_id: int
    state: str
    intitule: str | None
    last_validated_at: datetime | None
    reopened_at: datetime | None
    last_submitted_at: datetime | None
    authorizations: list[PageAuthorization]  # oldest first


REQUEST_COLUMNS = tuple(
    getattr(AuthorizationRequest, name)
    for name in PageRequest.__dataclass_fields__
    if name != "authorizations"
)
ORGANIZATION_COLUMNS = tuple(
    getattr(Organization, name) for name in PageOrganization.__dataclass_fields__
)
MEMBERSHIP_COLUMNS = (Membership.verified, Membership.verified_at, Membership.verification_reason)


@dataclass(slots=True)
class RequestPage:
    authorization_request: PageRequest
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
    history: OrganizationHistory  # the organisation's other requests and habilitations


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


# The page's lists in one statement: events, messages, documents, message templates,
# habilitations, the organisation's history, each a ``SELECT`` of the same columns (a kind,
# an id, two texts, then each kind's own, NULL for the others), ``UNION ALL``.
_KINDS = ("event", "message", "document", "template", "authorization")
_KINDS += organization_history.KINDS
_OWN_COLUMNS = {
    "payload": AuthorizationRequestEvent.payload,
    "created_at": Message.created_at,
    "read_at": Message.read_at,
    "processed_at": Message.processed_at,
    "email": User.email,
    "size": Document.size,
    "scan_state": Document.scan_state,
    "text_state": Document.text_state,
    "last_validated_at": AuthorizationRequest.last_validated_at,
    "reopened_at": AuthorizationRequest.reopened_at,
    "request_id": Authorization.authorization_request_id,
}


def _row(kind: str, id_, first, second, **own):
    """One kind's ``SELECT``: its id, two texts (``None``: a NULL), its ``own`` columns
    named, the others typed NULLs (PostgreSQL matches the UNION's column types)."""
    return select(
        literal(kind).label("kind"),
        id_.label("id"),
        first.label("first"),
        (cast(null(), Text) if second is None else second).label("second"),
        *(
            own.get(name, cast(null(), column.type)).label(name)
            for name, column in _OWN_COLUMNS.items()
        ),
    )


def _list(kind: str, model, first: str, second: str, *own: str, email=None):
    """``_row`` for ``model``'s columns named ``first``, ``second`` and ``own``."""
    columns = {name: getattr(model, name) for name in own}
    if email is not None:
        columns["email"] = email
    return _row(kind, model.id, getattr(model, first), getattr(model, second), **columns)


@functools.cache
def _lists_statement(definition_count: int):
    """Built once per number of the viewer's definitions (the history's parameters)."""
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
    authorizations = _list(
        "authorization", Authorization, "state", "revocation_reason", "created_at"
    ).where(Authorization.authorization_request_id == request_id)
    history = organization_history.history_selects(_row, definition_count)
    # The templates by title (the database's collation); the others are sorted in Python.
    return CompiledOnce(
        union_all(events, messages, documents, templates, authorizations, *history).order_by(
            "kind", "first", "id"
        )
    )


class ListRow(NamedTuple):
    """A row of the lists' statement, as a plain tuple: a SQLAlchemy ``Row`` looks each
    attribute up by name (some 0.3 µs each, about seventy per page), a named tuple's
    attributes are indexes."""

    kind: str
    id: int
    first: Any
    second: Any
    payload: Any
    created_at: datetime | None
    read_at: datetime | None
    processed_at: datetime | None
    email: str | None
    size: int | None
    scan_state: str | None
    text_state: str | None
    last_validated_at: datetime | None
    reopened_at: datetime | None
    request_id: int | None


def _lists(connection, row, definitions: list[str]) -> dict[str, list[ListRow]]:
    """The rows of the page's lists by kind (the templates by title), from one statement
    (``row``: the request's)."""
    lists: dict[str, list[ListRow]] = {kind: [] for kind in _KINDS}
    parameters = dict(
        zip(organization_history.definition_names(len(definitions)), definitions, strict=True)
    )
    parameters.update(
        request_id=row.id, definition=row.definition_id, organization_id=row.organization_id
    )
    statement = _lists_statement(len(definitions))
    # ``all()``: one fetch (iterating the result fetches row by row).
    for list_row in map(ListRow._make, statement.execute(connection, parameters).all()):
        lists[list_row.kind].append(list_row)
    return lists


def _by_id(rows: list, *, newest_first: bool = False) -> list:
    return sorted(rows, key=lambda r: r.id, reverse=newest_first)


@functools.cache
def _statement():
    """The request's row, built once per process: its SQL compilation is cached by
    SQLAlchemy, and an already built statement also skips recomputing its cache key."""
    applicant = aliased(User)
    verifier = aliased(User)
    return CompiledOnce(
        select(
            *REQUEST_COLUMNS,
            applicant.email.label("applicant_email"),
            Membership.id.label("membership_id"),
            *MEMBERSHIP_COLUMNS,
            verifier.email.label("verifier_email"),
            RequestFollow.id.label("follow_id"),
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
        .where(AuthorizationRequest.id == bindparam("request_id"))
    )


@functools.cache
def _answers_statements():
    request_id = bindparam("request_id")
    return (
        select(AuthorizationRequest)
        .where(AuthorizationRequest.id == request_id)
        .execution_options(populate_existing=True),
        select(Document)
        .where(Document.authorization_request_id == request_id)
        .order_by(Document.id)
        .execution_options(populate_existing=True),
    )


def load_answers(request_id: int) -> AuthorizationRequest:
    """The request with its answers and documents (the blocks' summary reads them): when the
    answers are rendered again only (``load`` reads columns)."""
    request, documents = _answers_statements()
    parameters = {"request_id": request_id}
    authorization_request = db.session.scalars(request, parameters).one()
    set_committed_value(
        authorization_request, "documents", list(db.session.scalars(documents, parameters))
    )
    return authorization_request


def load(request_id: int, viewer_id: int, definitions: list[str]) -> RequestPage | None:
    """The page's data, or None when there is no such request (the view checks permissions);
    ``definitions``: those whose requests the viewer reads (the organisation's history)."""
    parameters = {"request_id": request_id, "viewer_id": viewer_id}
    connection = read_connection()  # the same for both (each call looks it up)
    row = _statement().execute(connection, parameters).first()
    if row is None:
        return None
    lists = _lists(connection, row, definitions)
    count = len(REQUEST_COLUMNS)
    authorizations = [
        PageAuthorization(r.id, r.first, r.second, r.created_at)
        for r in _by_id(lists["authorization"])
    ]
    organization = PageOrganization(*row[-len(ORGANIZATION_COLUMNS) :])
    membership = None if row.membership_id is None else PageMembership(*row[count + 2 : count + 5])
    return RequestPage(
        authorization_request=PageRequest(*row[:count], authorizations),
        organization=organization,
        applicant_email=row.applicant_email,
        membership=membership,
        verifier_email=row.verifier_email,
        following=row.follow_id is not None,
        events=[
            (TimelineEvent(r.id, r.first, r.second, r.payload, r.created_at), r.email)
            for r in sorted(lists["event"], key=lambda r: (r.created_at, r.id), reverse=True)
        ],
        messages=[
            (PageMessage(r.id, r.first, r.second, r.read_at, r.processed_at, r.created_at), r.email)
            for r in _by_id(lists["message"])
        ],
        documents=[
            PageDocument(r.id, r.first, r.second, r.size, r.scan_state, r.text_state)
            for r in _by_id(lists["document"])
        ],
        message_templates=[TemplateChoice(r.id, r.first, r.second) for r in lists["template"]],
        history=organization_history.history(
            lists["history_request"], lists["history_authorization"]
        ),
    )
