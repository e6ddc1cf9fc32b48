"""What an organisation asked and holds, for the instructor deciding one of its requests.

The request page shows the organisation's other requests (submitted at least once: plain
drafts stay the applicant's business) and its habilitations, on the definitions the
instructor reads, newest first: **one** statement whatever their number (``UNION ALL`` of
``LIMIT`` rows of each plus one, to know whether there are more; the queue, searched by
SIRET, lists them all), selecting the columns the page shows (never the answers).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, cast, literal, null, select, union_all

from datapass.extensions import db
from datapass.models import Authorization, AuthorizationRequest
from datapass.models.authorization import AuthorizationLabels
from datapass.models.authorization_request import RequestLabels

LIMIT = 10


@dataclass(frozen=True, slots=True)
class OtherRequest(RequestLabels):
    """One of the organisation's other requests: what its line shows."""

    id: int
    intitule: str | None
    state: str
    last_validated_at: datetime | None
    reopened_at: datetime | None


@dataclass(frozen=True, slots=True)
class OrganizationAuthorization(AuthorizationLabels):
    """One of the organisation's habilitations: what its line shows."""

    id: int
    authorization_request_id: int
    state: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class OrganizationHistory:
    requests: list[OtherRequest]
    more_requests: bool
    authorizations: list[OrganizationAuthorization]
    more_authorizations: bool


@functools.cache
def _statement(limit: int):
    """Built once per limit: SQLAlchemy then reuses its compiled SQL and its cache key."""
    organization_id = bindparam("organization_id")
    definitions = bindparam("definitions", expanding=True)
    requests = (
        select(
            literal("r").label("kind"),
            AuthorizationRequest.id,
            AuthorizationRequest.intitule,
            AuthorizationRequest.state,
            AuthorizationRequest.last_validated_at,
            AuthorizationRequest.reopened_at,
            AuthorizationRequest.created_at,
            AuthorizationRequest.id.label("request_id"),
        )
        .where(
            AuthorizationRequest.organization_id == organization_id,
            AuthorizationRequest.id != bindparam("request_id"),
            AuthorizationRequest.definition_id.in_(definitions),
            AuthorizationRequest.last_submitted_at.is_not(None),
        )
        .order_by(AuthorizationRequest.id.desc())
        .limit(limit + 1)
        .subquery()
    )
    authorizations = (
        select(
            literal("a").label("kind"),
            Authorization.id,
            # Typed NULLs: PostgreSQL matches the UNION's column types.
            cast(null(), AuthorizationRequest.intitule.type).label("intitule"),
            Authorization.state,
            cast(null(), AuthorizationRequest.last_validated_at.type).label("last_validated_at"),
            cast(null(), AuthorizationRequest.reopened_at.type).label("reopened_at"),
            Authorization.created_at,
            Authorization.authorization_request_id.label("request_id"),
        )
        .where(
            Authorization.organization_id == organization_id,
            Authorization.definition_id.in_(definitions),
        )
        .order_by(Authorization.id.desc())
        .limit(limit + 1)
        .subquery()
    )
    return union_all(select(requests), select(authorizations)).order_by("kind", "id")


def organization_history(
    authorization_request: AuthorizationRequest, definitions: list[str], *, limit: int = LIMIT
) -> OrganizationHistory:
    rows = db.session.execute(
        _statement(limit),
        {
            "organization_id": authorization_request.organization_id,
            "request_id": authorization_request.id,
            "definitions": definitions,
        },
    ).all()
    other_requests = [
        OtherRequest(row.id, row.intitule, row.state, row.last_validated_at, row.reopened_at)
        for row in reversed(rows)
        if row.kind == "r"
    ]
    held = [
        OrganizationAuthorization(row.id, row.request_id, row.state, row.created_at)
        for row in reversed(rows)
        if row.kind == "a"
    ]
    return OrganizationHistory(
        other_requests[:limit], len(other_requests) > limit, held[:limit], len(held) > limit
    )
