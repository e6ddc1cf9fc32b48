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


def _definition_names(count: int) -> tuple[str, ...]:
    return tuple(f"definition_{n}" for n in range(count))


@functools.cache
def _statement(limit: int, definition_count: int):
    """Built once per limit and number of definitions (one parameter each: an « expanding »
    list would be spliced into the SQL at every execution): SQLAlchemy then reuses its
    compiled SQL and its cache key."""
    organization_id = bindparam("organization_id")
    definitions = [bindparam(name) for name in _definition_names(definition_count)]
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
    parameters = dict(zip(_definition_names(len(definitions)), definitions, strict=True))
    parameters["organization_id"] = authorization_request.organization_id
    parameters["request_id"] = authorization_request.id
    rows = db.session.connection().execute(_statement(limit, len(definitions)), parameters).all()
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
