"""What the instruction request page shows, loaded in a constant and small number of statements.

- the request, its organisation, the applicant's email, the applicant's membership of the
  organisation (and who verified it), whether the viewer follows the request: **one** statement
  (outer joins on unique keys);
- its timeline and its messages with their authors' emails: one statement each, selecting the
  emails only (never the authors as ``User`` objects, whose roles would load too);
- its documents and its habilitations: one statement each.

The collections are put into ``authorization_request.events`` / ``.messages`` /
``.documents`` / ``.authorizations``, so that code reading them (``messaging.mark_read``, the
workflow, the blocks' summary) loads nothing lazily. The statements are built once per
process (not at every request): SQLAlchemy then reuses their compiled SQL and cache keys.

``tests/views/test_request_page.py`` checks the count and that nothing loads lazily.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from sqlalchemy import and_, bindparam, select
from sqlalchemy.orm import aliased, joinedload
from sqlalchemy.orm.attributes import set_committed_value

from datapass.extensions import db
from datapass.models import (
    Authorization,
    AuthorizationRequest,
    AuthorizationRequestEvent,
    Document,
    Membership,
    Message,
    RequestFollow,
    User,
)


@dataclass(slots=True)
class RequestPage:
    authorization_request: AuthorizationRequest
    applicant_email: str
    membership: Membership | None
    verifier_email: str | None  # who verified the membership, if someone did
    following: bool  # does the viewer follow the request
    # (event, its author's email), newest first, as the timeline shows them
    events: list[tuple[AuthorizationRequestEvent, str | None]]
    # (message, its author's email), oldest first
    messages: list[tuple[Message, str]]


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
        .options(joinedload(AuthorizationRequest.organization))
    )
    documents = (
        select(Document)
        .where(Document.authorization_request_id == request_id)
        .order_by(Document.id)
    )
    authorizations = (
        select(Authorization)
        .where(Authorization.authorization_request_id == request_id)
        .order_by(Authorization.id)
    )
    events = (
        select(AuthorizationRequestEvent, User.email)
        .outerjoin(User, User.id == AuthorizationRequestEvent.user_id)
        .where(AuthorizationRequestEvent.authorization_request_id == request_id)
        .order_by(AuthorizationRequestEvent.id)
    )
    messages = (
        select(Message, User.email)
        .join(User, User.id == Message.author_id)
        .where(Message.authorization_request_id == request_id)
        .order_by(Message.id)
    )
    # What an earlier statement of the same session loaded may be stale (tests share it).
    return tuple(
        s.execution_options(populate_existing=True)
        for s in (page, events, messages, documents, authorizations)
    )


def load(request_id: int, viewer_id: int) -> RequestPage | None:
    """The page's data, or None when there is no such request (the view checks permissions)."""
    page, events_statement, messages_statement, documents, authorizations = _statements()
    row = db.session.execute(page, {"request_id": request_id, "viewer_id": viewer_id}).first()
    if row is None:
        return None
    authorization_request, applicant_email, membership, verifier_email, follow_id = row
    parameters = {"request_id": request_id}
    events = list(db.session.execute(events_statement, parameters))
    messages = list(db.session.execute(messages_statement, parameters))
    # The collections other code reads, as the relationships would have loaded them.
    set_committed_value(authorization_request, "events", [event for event, _ in events])
    for name, statement in (("documents", documents), ("authorizations", authorizations)):
        set_committed_value(
            authorization_request, name, list(db.session.scalars(statement, parameters))
        )
    set_committed_value(authorization_request, "messages", [message for message, _ in messages])
    return RequestPage(
        authorization_request=authorization_request,
        applicant_email=applicant_email,
        membership=membership,
        verifier_email=verifier_email,
        following=follow_id is not None,
        events=sorted(events, key=lambda pair: (pair[0].created_at, pair[0].id), reverse=True),
        messages=messages,
    )
