"""The applicant's dashboard: requests by group and habilitations, in two queries."""

from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload

from datapass import workflow
from datapass.extensions import db
from datapass.models import Authorization, AuthorizationRequest, Message, RequestContact, User
from datapass.models.authorization import (
    AUTHORIZATION_ACTIVE,
    AUTHORIZATION_OBSOLETE,
    AUTHORIZATION_REVOKED,
)
from datapass.models.message import INSTRUCTOR_SIDE

SCOPES = {
    "mes-demandes": "Mes demandes",
    "organisation": "Toute l’organisation",
    "contact": "Je suis mentionné en contact",
}
# Groups in display order: what needs the applicant first.
GROUPS = (
    (workflow.CHANGES_REQUESTED, "Modifications demandées"),
    (workflow.SUBMITTED, "En cours d’instruction"),
    (workflow.DRAFT, "Brouillons"),
    (workflow.REFUSED, "Refusées"),
)
AUTHORIZATION_GROUPS = (
    (AUTHORIZATION_ACTIVE, "Habilitations actives"),
    (AUTHORIZATION_OBSOLETE, "Habilitations obsolètes"),
    (AUTHORIZATION_REVOKED, "Habilitations révoquées"),
)
LIMIT = 200  # per list; beyond, the dashboard says so and the search of later issues helps


def _request_filter(user: User, scope: str):
    if scope == "organisation":
        # The organisations they are a verified member of; elsewhere, their own requests only.
        ids = user.verified_organization_ids
        own = AuthorizationRequest.applicant_id == user.id
        return or_(AuthorizationRequest.organization_id.in_(ids), own) if ids else own
    if scope == "contact":
        return AuthorizationRequest.id.in_(
            select(RequestContact.authorization_request_id).where(
                RequestContact.email == user.email
            )
        )
    return AuthorizationRequest.applicant_id == user.id


def load(user: User, scope: str):
    """({state: (label, [requests])}, {state: (label, [authorizations])}, truncated)."""
    condition = _request_filter(user, scope)
    rows = db.session.scalars(
        select(AuthorizationRequest)
        .options(
            joinedload(AuthorizationRequest.organization),
            joinedload(AuthorizationRequest.applicant),
        )
        .where(condition, AuthorizationRequest.state.in_([state for state, _ in GROUPS]))
        .order_by(AuthorizationRequest.updated_at.desc(), AuthorizationRequest.id.desc())
        .limit(LIMIT + 1)
    ).all()
    groups = {state: (label, []) for state, label in GROUPS}
    for row in rows[:LIMIT]:
        groups[row.state][1].append(row)
    authorizations_rows = db.session.scalars(
        select(Authorization)
        .join(Authorization.request)
        .options(joinedload(Authorization.request), joinedload(Authorization.organization))
        .where(condition)
        .order_by(Authorization.created_at.desc(), Authorization.id.desc())
        .limit(LIMIT + 1)
    ).all()
    authorizations = {state: (label, []) for state, label in AUTHORIZATION_GROUPS}
    for row in authorizations_rows[:LIMIT]:
        authorizations[row.state][1].append(row)
    truncated = len(rows) > LIMIT or len(authorizations_rows) > LIMIT
    return groups, authorizations, truncated


def unread_instructor_messages(requests: list[AuthorizationRequest]) -> dict[int, int]:
    """{request id: number of instructors' messages not read yet}, in one query."""
    ids = [request.id for request in requests]
    if not ids:
        return {}
    rows = db.session.execute(
        select(Message.authorization_request_id, func.count())
        .where(
            Message.authorization_request_id.in_(ids),
            Message.sender_side == INSTRUCTOR_SIDE,
            Message.read_at.is_(None),
        )
        .group_by(Message.authorization_request_id)
    )
    return dict(rows.all())
