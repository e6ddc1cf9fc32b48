"""The lean introspection: one indexed statement per call, the client's check included.

``POST /api/oauth/introspect`` (RFC 7662) and API Particulier's ``GET /api/introspect`` are
the hottest paths of DataPass: API providers call them for every request they serve. They are
answered by the fast lane (``api/lane.py``), before Flask, on ``Connections`` (Core, no ORM
session). Each call is one statement on the unique indexes (the client's ``client_id``, the
token's hash), that selects the columns the answer needs and nothing else (no ORM object, no
lazy load of the habilitation's answers or of its organisation), run on its own (no
``BEGIN``/``ROLLBACK`` round trips):

- the client's authentication is in the statement: its row is the ``FROM`` (client id,
  SHA-256 of the secret, kind, not revoked), the token is outer-joined to it. Nothing is
  cached: a revoked or rotated client is refused by the very next call on every machine, and
  the secret's check costs one SHA-256 (no password hash to recompute);
- the token's last use is written at most once a minute (``LAST_USED_PRECISION``), after the
  answer is built, in its own short transaction that can never fail the answer.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, bindparam, or_, select, update
from sqlalchemy.exc import DBAPIError

from datapass.crypto import digest
from datapass.database import Connections, write_transaction
from datapass.extensions import db
from datapass.models import ApiClient, ApiToken, Authorization, AuthorizationRequest
from datapass.models.authorization import AUTHORIZATION_REVOKED
from datapass.models.base import utcnow
from datapass.models.organization import Organization, organization_display_name
from datapass.models.token import CLIENT_INTROSPECTION
from datapass.services.tokens import (
    LAST_USED_PRECISION,
    LEGACY_INTROSPECTION_DEFINITION,
    PREFIX,
)

logger = logging.getLogger(__name__)
INACTIVE = {"active": False}
BUSY = "the last use of a token was not recorded (database busy)"


@dataclass(frozen=True)
class FoundToken:
    """What an introspection answer needs of a token, its habilitation and organisation."""

    id: int
    jti: str
    scopes: list[str]
    issued_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None
    authorization_id: int
    authorization_state: str
    siret: str
    organization_name: str | None
    intitule: str | None = None

    @classmethod
    def of(cls, token: ApiToken) -> FoundToken:
        """The same facts, read from a token loaded with its habilitation and organisation."""
        authorization = token.authorization
        return cls(
            id=token.id,
            jti=token.jti,
            scopes=token.scopes,
            issued_at=token.issued_at,
            expires_at=token.expires_at,
            revoked_at=token.revoked_at,
            last_used_at=token.last_used_at,
            authorization_id=authorization.id,
            authorization_state=authorization.state,
            siret=authorization.organization.siret,
            organization_name=authorization.organization.name,
        )

    def is_active(self, now: datetime) -> bool:
        return (
            self.revoked_at is None
            and self.expires_at > now
            and self.authorization_state != AUTHORIZATION_REVOKED
        )


TOKEN_COLUMNS = (
    ApiToken.id,
    ApiToken.jti,
    ApiToken.scopes,
    ApiToken.issued_at,
    ApiToken.expires_at,
    ApiToken.revoked_at,
    ApiToken.last_used_at,
    Authorization.id.label("authorization_id"),
    Authorization.state.label("authorization_state"),
    Organization.siret,
    Organization.name.label("organization_name"),
)


def _well_formed(value) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX) and len(value) <= 100


def answer(found: FoundToken) -> dict:
    """RFC 7662's answer for an active token (the shape of ``docs/tokens.md``)."""
    reference = f"H{found.authorization_id}"
    return {
        "active": True,
        "scope": " ".join(found.scopes or []),
        "exp": int(found.expires_at.timestamp()),
        "iat": int(found.issued_at.timestamp()),
        "jti": found.jti,
        "sub": found.siret,
        "client_id": reference,
        "habilitation": reference,
        "organization_name": organization_display_name(found.organization_name, found.siret),
    }


@functools.cache
def _client_statement():
    """The client (by id, secret's hash, kind, not revoked), then by flat outer joins the
    token of a hash, its habilitation when of the client's definition (else NULL: another
    definition's token is inactive), its organisation. At most one row: ``client_id`` and
    ``token_hash`` are unique. Built once, compiled once (SQLAlchemy's cache)."""
    return (
        select(ApiClient.definition_id, *TOKEN_COLUMNS)
        .select_from(ApiClient)
        .outerjoin(ApiToken, ApiToken.token_hash == bindparam("token_hash"))
        .outerjoin(
            Authorization,
            and_(
                ApiToken.authorization_id == Authorization.id,
                Authorization.definition_id == ApiClient.definition_id,
            ),
        )
        .outerjoin(Organization, Authorization.organization_id == Organization.id)
        .where(
            ApiClient.client_id == bindparam("client_id"),
            ApiClient.secret_hash == bindparam("secret_hash"),
            ApiClient.kind == CLIENT_INTROSPECTION,
            ApiClient.revoked_at.is_(None),
        )
    )


@functools.cache
def _legacy_statement():
    return (
        select(*TOKEN_COLUMNS, AuthorizationRequest.intitule)
        .join(Authorization, ApiToken.authorization_id == Authorization.id)
        .join(Organization, Authorization.organization_id == Organization.id)
        .join(
            AuthorizationRequest,
            Authorization.authorization_request_id == AuthorizationRequest.id,
        )
        .where(
            ApiToken.token_hash == bindparam("token_hash"),
            Authorization.definition_id == LEGACY_INTROSPECTION_DEFINITION,
        )
    )


def _fetch(connections: Connections, statement, **parameters):
    """One row of a Core statement, run on its own."""
    return connections.first(statement, parameters)


def introspect_for_client(
    connections: Connections,
    client_id: str,
    secret: str,
    value: str,
    *,
    now: datetime | None = None,
) -> dict | None:
    """The answer to an introspection client, or None when its credentials are refused.

    One statement (``_client_statement``). Anything but an active token of the client's
    definition is ``{"active": false}``."""
    row = _fetch(
        connections,
        _client_statement(),
        client_id=client_id or "",
        secret_hash=digest(secret or ""),
        # A malformed value is looked up as a hash no token has (one statement shape).
        token_hash=digest(value) if _well_formed(value) else "",
    )
    if row is None:
        return None
    if row.authorization_id is None or not row.definition_id:
        return dict(INACTIVE)  # no such token, or another definition's
    found = FoundToken(*row[1:])  # the columns after definition_id, in TOKEN_COLUMNS' order
    if not found.is_active(now := now or utcnow()):
        return dict(INACTIVE)
    result = answer(found)
    _record_use_on(connections, found, now)
    return result


def introspect_legacy(
    connections: Connections, value: str, *, now: datetime | None = None
) -> dict | None:
    """API Particulier's legacy answer (``_id``, ``name``, ``scopes``) for its own active
    tokens; None for anything else. One statement (``_legacy_statement``)."""
    if not _well_formed(value):
        return None
    row = _fetch(connections, _legacy_statement(), token_hash=digest(value))
    if row is None:
        return None
    found = FoundToken(*row)
    if not found.is_active(now := now or utcnow()):
        return None
    result = {"_id": found.jti, "name": found.intitule or "", "scopes": found.scopes}
    _record_use_on(connections, found, now)
    return result


def _stale(last_used_at: datetime | None, now: datetime) -> bool:
    return last_used_at is None or now - last_used_at >= LAST_USED_PRECISION


def _stamp(token_id: int, now: datetime):
    """The conditional UPDATE of a token's last use (another process may have stamped it)."""
    return (
        update(ApiToken)
        .where(
            ApiToken.id == token_id,
            or_(
                ApiToken.last_used_at.is_(None),
                ApiToken.last_used_at <= now - LAST_USED_PRECISION,
            ),
        )
        .values(last_used_at=now)
        .execution_options(synchronize_session=False)
    )


def _record_use_on(connections: Connections, found: FoundToken, now: datetime) -> None:
    """``record_use`` for the fast lane: its own short transaction on ``connections``."""
    if not _stale(found.last_used_at, now):
        return
    try:
        with connections.write() as connection:
            connection.execute(_stamp(found.id, now))
    except DBAPIError:
        logger.warning(BUSY, exc_info=True)


def record_use(token_id: int, last_used_at: datetime | None, now: datetime) -> None:
    """Stamp the token's last use, at most once a minute; never fails the caller.

    The read transaction ends, then one conditional UPDATE (another process may have stamped
    it meanwhile) runs in its own transaction. A database too busy to take it within the
    busy timeout loses this stamp only, which the next minute's call writes."""
    if not _stale(last_used_at, now):
        return
    try:
        with write_transaction():
            db.session.execute(_stamp(token_id, now))
    except DBAPIError:
        logger.warning(BUSY, exc_info=True)
