"""What an organisation asked and holds, for the instructor deciding one of its requests.

The request page shows the organisation's other requests (submitted at least once: plain
drafts stay the applicant's business) and its habilitations, on the definitions the
instructor reads, newest first: two queries whatever their number, ``LIMIT`` rows each plus
one to know whether there are more (the queue, searched by SIRET, lists them all).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from datapass.extensions import db
from datapass.models import Authorization, AuthorizationRequest

LIMIT = 10


@dataclass(frozen=True, slots=True)
class OrganizationHistory:
    requests: list[AuthorizationRequest]
    more_requests: bool
    authorizations: list[Authorization]
    more_authorizations: bool


def organization_history(
    authorization_request: AuthorizationRequest, definitions: list[str], *, limit: int = LIMIT
) -> OrganizationHistory:
    organization_id = authorization_request.organization_id
    requests = list(
        db.session.scalars(
            select(AuthorizationRequest)
            .where(
                AuthorizationRequest.organization_id == organization_id,
                AuthorizationRequest.id != authorization_request.id,
                AuthorizationRequest.definition_id.in_(definitions),
                AuthorizationRequest.last_submitted_at.is_not(None),
            )
            .order_by(AuthorizationRequest.id.desc())
            .limit(limit + 1)
        )
    )
    authorizations = list(
        db.session.scalars(
            select(Authorization)
            .where(
                Authorization.organization_id == organization_id,
                Authorization.definition_id.in_(definitions),
            )
            .order_by(Authorization.id.desc())
            .limit(limit + 1)
        )
    )
    return OrganizationHistory(
        requests[:limit], len(requests) > limit, authorizations[:limit], len(authorizations) > limit
    )
