"""What an organisation asked and holds, for the instructor deciding one of its requests.

The request page shows the organisation's other requests (submitted at least once: plain
drafts stay the applicant's business) and its habilitations, on the definitions the
instructor reads, newest first: ``LIMIT`` rows of each plus one, to know whether there are
more (the queue, searched by SIRET, lists them all), selecting the columns the page shows
(never the answers), as two parts of the page's lists statement (``services/request_page.py``:
no round trip of their own).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, bindparam, select

from datapass.models import Authorization, AuthorizationRequest
from datapass.models.authorization import AuthorizationLabels
from datapass.models.authorization_request import RequestLabels

LIMIT = 10
# The kinds of the rows of ``history_selects``.
KINDS = ("history_request", "history_authorization")


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


def definition_names(count: int) -> tuple[str, ...]:
    """The parameters naming the instructor's definitions (one each: an « expanding » list
    would be spliced into the SQL at every execution)."""
    return tuple(f"definition_{n}" for n in range(count))


def history_selects(row: Callable[..., Select], definition_count: int, limit: int = LIMIT):
    """The two parts of the history, each a ``SELECT`` of ``LIMIT`` rows plus one, as
    ``row(kind, id, first, second, **own)`` lays them out (``services/request_page.py``
    unions them with the page's lists: one round trip). Parameters: ``organization_id``,
    ``request_id`` and the definitions (``definition_names``)."""
    organization_id = bindparam("organization_id")
    definitions = [bindparam(name) for name in definition_names(definition_count)]
    request = AuthorizationRequest
    requests = (
        row(
            KINDS[0],
            request.id,
            request.intitule,
            request.state,
            last_validated_at=request.last_validated_at,
            reopened_at=request.reopened_at,
        )
        .where(
            request.organization_id == organization_id,
            request.id != bindparam("request_id"),
            request.definition_id.in_(definitions),
            request.last_submitted_at.is_not(None),
        )
        .order_by(request.id.desc())
        .limit(limit + 1)
        .subquery()
    )
    authorizations = (
        row(
            KINDS[1],
            Authorization.id,
            Authorization.state,
            None,
            created_at=Authorization.created_at,
            request_id=Authorization.authorization_request_id,
        )
        .where(
            Authorization.organization_id == organization_id,
            Authorization.definition_id.in_(definitions),
        )
        .order_by(Authorization.id.desc())
        .limit(limit + 1)
        .subquery()
    )
    return select(requests), select(authorizations)


def history(requests: list, authorizations: list, limit: int = LIMIT) -> OrganizationHistory:
    """The history from the rows of ``history_selects`` (any order)."""
    other_requests = [
        OtherRequest(r.id, r.first, r.second, r.last_validated_at, r.reopened_at)
        for r in sorted(requests, key=lambda r: r.id, reverse=True)
    ]
    held = [
        OrganizationAuthorization(r.id, r.request_id, r.first, r.created_at)
        for r in sorted(authorizations, key=lambda r: r.id, reverse=True)
    ]
    return OrganizationHistory(
        other_requests[:limit], len(other_requests) > limit, held[:limit], len(held) > limit
    )
