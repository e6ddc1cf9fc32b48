"""API tokens: issued with each habilitation, revealed once, rotated, prolonged, introspected.

A token is ``dpt_`` followed by 43 URL-safe random characters (256 bits). Only its SHA-256
is stored, plus its last four characters for display; the value is sealed (encrypted with a
key derived from ``SECRET_KEY``) until a member of the organisation reveals it once.
Introspection clients belong to a definition and see only its tokens.
"""

from __future__ import annotations

import hmac
import secrets
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, select, update
from sqlalchemy.orm import joinedload

from datapass.crypto import InvalidToken, digest, seal, unseal
from datapass.errors import UserError
from datapass.extensions import db
from datapass.models import ApiClient, ApiToken, Authorization, TokenReminder
from datapass.models.authorization import AUTHORIZATION_REVOKED
from datapass.models.base import utcnow
from datapass.models.token import CLIENT_DEVELOPER, CLIENT_INTROSPECTION
from datapass.services.impersonation import forbid_while_impersonating

PREFIX = "dpt_"
CLIENT_PREFIX = "dpc_"
REMINDER_DAYS = (90, 60, 30, 14, 7, 0)
LAST_USED_PRECISION = timedelta(minutes=1)
# API Particulier's legacy endpoint (``GET /api/introspect``) answers for its own tokens only.
LEGACY_INTROSPECTION_DEFINITION = "api_particulier"


class TokenError(UserError):
    """A refused token action (reveal, rotation, prolongation)."""


def lifetime(definition_id: str | None = None) -> timedelta:
    """18 months by default (``TOKEN_LIFETIME_DAYS``), or the definition's own, shorter one."""
    from datapass.catalog import get_catalog

    definition = get_catalog().definitions.get(definition_id) if definition_id else None
    if definition is not None and definition.token_lifetime_days:
        return timedelta(days=definition.token_lifetime_days)
    return timedelta(days=int(current_app.config.get("TOKEN_LIFETIME_DAYS", 548)))


def lifetime_label(definition_id: str | None = None) -> str:
    """The lifetime in French words: « 18 mois » (548 days), « 90 jours »."""
    days = lifetime(definition_id).days
    months = round(days / 30.4375)
    if months >= 2 and abs(days - months * 30.4375) <= 2:
        return f"{months} mois"
    return f"{days} jours" if days > 1 else f"{days} jour"


def rotation_overlap() -> timedelta:
    return timedelta(days=int(current_app.config.get("TOKEN_ROTATION_OVERLAP_DAYS", 7)))


def _new(authorization: Authorization, *, now: datetime, expires_at: datetime) -> ApiToken:
    value = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        jti=str(uuid.uuid4()),
        token_hash=digest(value),
        last_chars=value[-4:],
        scopes=list((authorization.data or {}).get("scopes") or []),
        issued_at=now,
        expires_at=expires_at,
        sealed_value=seal(value),
    )
    authorization.tokens.append(token)
    return token


def issue(authorization: Authorization, *, now: datetime | None = None) -> ApiToken:
    """The habilitation's token, in the caller's transaction (approval)."""
    now = now or utcnow()
    return _new(authorization, now=now, expires_at=now + lifetime(authorization.definition_id))


def current_token(authorization: Authorization) -> ApiToken | None:
    live = [t for t in authorization.tokens if t.replaced_by_id is None and t.revoked_at is None]
    return live[-1] if live else None


ALREADY_REVEALED = "Ce jeton a déjà été affiché\u00a0: il ne peut plus l’être. Renouvelez-le."


def reveal(token: ApiToken, user) -> str:
    """The token's value, once in all: the first reveal wins, atomically. Commits.

    The seal is cleared by one conditional UPDATE (``WHERE sealed_value IS NOT NULL``): of
    two concurrent reveals, whatever their instances or machines, only one changes a row
    and gets the value; the other is refused as « déjà affiché ».
    """
    forbid_while_impersonating(user)
    if token.revoked_at is not None:
        raise TokenError("Ce jeton est révoqué.")
    sealed = token.sealed_value
    if sealed is None:
        raise TokenError(ALREADY_REVEALED)
    try:
        value = unseal(sealed)
    except InvalidToken as error:
        raise TokenError("Ce jeton ne peut plus être affiché\u00a0: renouvelez-le.") from error
    claimed = db.session.execute(
        update(ApiToken)
        .where(
            ApiToken.id == token.id,
            ApiToken.sealed_value.is_not(None),
            ApiToken.revoked_at.is_(None),
        )
        .values(sealed_value=None, revealed_at=utcnow(), revealed_by_id=user.id)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        db.session.rollback()
        raise TokenError(ALREADY_REVEALED)
    db.session.commit()
    return value


def rotate(authorization: Authorization, user, *, now: datetime | None = None) -> ApiToken:
    """A new token; the previous one stays valid for the overlap, then expires. Commits."""
    forbid_while_impersonating(user)
    now = now or utcnow()
    if not authorization.is_active:
        raise TokenError("Seule une habilitation active a un jeton.")
    previous = current_token(authorization)
    expires_at = previous.expires_at if previous else now + lifetime(authorization.definition_id)
    token = _new(authorization, now=now, expires_at=max(expires_at, now + timedelta(days=1)))
    db.session.flush()
    if previous is not None:
        previous.replaced_by_id = token.id
        previous.expires_at = min(previous.expires_at, now + rotation_overlap())
    db.session.commit()
    return token


def can_prolong(token: ApiToken, now: datetime) -> bool:
    return token.revoked_at is None and token.expires_at - now <= timedelta(days=90)


def prolong(authorization: Authorization, user=None, *, now: datetime | None = None) -> ApiToken:
    """+ the token lifetime (18 months), from its current expiry (or now if expired)."""
    forbid_while_impersonating(user)
    now = now or utcnow()
    token = current_token(authorization)
    if token is None or not authorization.is_active:
        raise TokenError("Cette habilitation n’a pas de jeton actif à prolonger.")
    if not can_prolong(token, now):
        raise TokenError(
            "Le jeton peut être prolongé dans les 90 jours qui précèdent son expiration."
        )
    token.expires_at = max(token.expires_at, now) + lifetime(authorization.definition_id)
    # A new expiry date: its reminders (90, 60, 30… days before) start again.
    db.session.execute(delete(TokenReminder).where(TokenReminder.token_id == token.id))
    db.session.commit()
    return token


def carry_over(
    previous: Authorization, authorization: Authorization, *, now: datetime | None = None
) -> ApiToken | None:
    """An approved reopening: the current token of the ``previous`` habilitation moves to the
    new one, limited to its scopes and prolonged by the lifetime from now (its reminders
    start again). None when there is no live token to keep. No commit."""
    now = now or utcnow()
    token = current_token(previous)
    if token is None or not token.is_active(now):
        return None
    token.authorization = authorization
    token.scopes = list((authorization.data or {}).get("scopes") or [])
    token.expires_at = max(token.expires_at, now + lifetime(authorization.definition_id))
    if token.id is not None:
        db.session.execute(delete(TokenReminder).where(TokenReminder.token_id == token.id))
    return token


def revoke_tokens(authorization: Authorization, *, now: datetime | None = None) -> None:
    """Revoke every token of the habilitation (no commit: the revocation's transaction)."""
    now = now or utcnow()
    for token in authorization.tokens:
        if token.revoked_at is None:
            token.revoked_at = now
            token.sealed_value = None


def retire_tokens(authorization: Authorization, *, now: datetime | None = None) -> None:
    """An obsolete habilitation: its tokens stay valid for the overlap, so software can switch."""
    now = now or utcnow()
    for token in authorization.tokens:
        if token.revoked_at is None:
            token.expires_at = min(token.expires_at, now + rotation_overlap())


# ---------------------------------------------------------------- introspection


def find_active(
    value: str, *, definition_id: str | None = None, now: datetime | None = None
) -> ApiToken | None:
    """The active token of this value, of ``definition_id`` when given: one statement, an
    equality on the unique hash index joined to its habilitation (and the habilitation's
    organisation and request), so that nothing is loaded lazily afterwards."""
    if not isinstance(value, str) or not value.startswith(PREFIX) or len(value) > 100:
        return None
    hashed = digest(value)
    token = db.session.scalar(
        select(ApiToken)
        .options(
            joinedload(ApiToken.authorization).options(
                joinedload(Authorization.organization), joinedload(Authorization.request)
            )
        )
        .where(ApiToken.token_hash == hashed)
    )
    now = now or utcnow()
    if token is None or not hmac.compare_digest(token.token_hash, hashed):
        return None
    authorization = token.authorization
    if definition_id is not None and authorization.definition_id != definition_id:
        return None  # another definition's token: as if it did not exist
    if not token.is_active(now) or authorization.state == AUTHORIZATION_REVOKED:
        return None
    from datapass.services.introspection import record_use

    record_use(token.id, token.last_used_at, now)
    return token


def introspect(client: ApiClient, value: str) -> dict:
    """RFC 7662's answer to an introspection client: it sees its definition's tokens only;
    anything else, another definition's active token included, is ``{"active": false}``."""
    if not client.definition_id:
        return {"active": False}
    return introspection(find_active(value, definition_id=client.definition_id))


def introspection(token: ApiToken | None) -> dict:
    from datapass.services.introspection import INACTIVE, FoundToken, answer

    return answer(FoundToken.of(token)) if token is not None else dict(INACTIVE)


# ---------------------------------------------------------------- API clients


class ClientError(UserError):
    """A refused API client creation (unknown or ambiguous definition)."""


def client_definition(definition_id: str | None) -> str:
    """The definition of a new introspection client: the one named, which must be in the
    catalogue, or by default the catalogue's only definition."""
    from datapass.catalog import get_catalog

    definitions = get_catalog().definitions
    if definition_id:
        if definition_id not in definitions:
            raise ClientError(
                f"« {definition_id} » n’est pas un type d’habilitation du catalogue.",
                field="definition_id",
            )
        return definition_id
    if len(definitions) != 1:
        raise ClientError(
            "Le catalogue compte plusieurs types d’habilitation : indiquez celui du client.",
            field="definition_id",
        )
    return next(iter(definitions))


def create_client(
    name: str,
    *,
    kind: str = CLIENT_INTROSPECTION,
    owner=None,
    scopes: Iterable[str] = (),
    definition_id: str | None = None,
) -> tuple[ApiClient, str]:
    """A new client; returns it with its secret, shown once (only its hash is kept). Commits.

    An introspection client belongs to ``definition_id`` (default: the catalogue's only
    definition; ``ClientError`` if unknown or ambiguous). ``scopes`` are those of a developer
    application (``api.oauth.API_SCOPES``)."""
    definition_id = client_definition(definition_id) if kind == CLIENT_INTROSPECTION else None
    secret = secrets.token_urlsafe(32)
    client = ApiClient(
        client_id=CLIENT_PREFIX + secrets.token_hex(12),
        secret_hash=digest(secret),
        name=name.strip(),
        kind=kind,
        definition_id=definition_id,
        owner_id=owner.id if owner is not None else None,
        scopes=list(scopes),
    )
    db.session.add(client)
    db.session.commit()
    return client, secret


def introspection_clients() -> list[ApiClient]:
    """The introspection clients, newest first (the admin page)."""
    return list(
        db.session.scalars(
            select(ApiClient)
            .where(ApiClient.kind == CLIENT_INTROSPECTION)
            .order_by(ApiClient.id.desc())
            .limit(200)
        )
    )


def revoke_client(client: ApiClient, *, now: datetime | None = None) -> None:
    """Revoke a client (an introspection client or a developer application). Commits."""
    client.revoked_at = client.revoked_at or now or utcnow()
    db.session.commit()


def developer_clients(owner) -> list[ApiClient]:
    """The developer applications of ``owner``, newest first."""
    return list(
        db.session.scalars(
            select(ApiClient)
            .where(ApiClient.kind == CLIENT_DEVELOPER, ApiClient.owner_id == owner.id)
            .order_by(ApiClient.id.desc())
        )
    )


def authenticate_client(
    client_id: str, secret: str, *, kind: str = CLIENT_INTROSPECTION
) -> ApiClient | None:
    client = db.session.scalar(select(ApiClient).where(ApiClient.client_id == client_id))
    expected = client.secret_hash if client is not None else digest("not-a-client")
    valid = hmac.compare_digest(expected, digest(secret or ""))
    if client is None or not valid or client.revoked_at is not None or client.kind != kind:
        return None
    return client


# ---------------------------------------------------------------- expiry reminders


def due_reminders(now: datetime) -> list[tuple[ApiToken, int]]:
    """(token, threshold) for every current token whose next threshold is reached."""
    horizon = now + timedelta(days=max(REMINDER_DAYS))
    tokens = db.session.scalars(
        select(ApiToken).where(
            ApiToken.revoked_at.is_(None),
            ApiToken.replaced_by_id.is_(None),
            ApiToken.expires_at <= horizon,
            ApiToken.expires_at > now - timedelta(days=1),
        )
    ).all()
    sent = {
        (reminder.token_id, reminder.days_before)
        for reminder in db.session.scalars(
            select(TokenReminder).where(TokenReminder.token_id.in_([t.id for t in tokens]))
        )
    }
    due = []
    for token in tokens:
        if not token.authorization.is_active:
            continue
        days_left = (token.expires_at - now).total_seconds() / 86400
        reached = [d for d in REMINDER_DAYS if days_left <= d]
        if reached:
            threshold = min(reached)
            if (token.id, threshold) not in sent:
                due.append((token, threshold))
    return due


def send_reminders(now: datetime | None = None) -> int:
    """Queue one reminder per token and threshold reached; safe to run any number of times."""
    from datapass.services import emails

    now = now or utcnow()
    count = 0
    for token, threshold in due_reminders(now):
        authorization = token.authorization
        authorization_request = authorization.request
        recipients = [
            authorization_request.applicant.email,
            (authorization.data or {}).get("contact_technique_email", ""),
        ]
        db.session.add(TokenReminder(token_id=token.id, days_before=threshold))
        emails.queue(
            "token_expiry",
            recipients,
            {
                "request": authorization_request,
                "authorization": authorization,
                "token": token,
                "days": threshold,
                "lifetime": lifetime_label(authorization.definition_id),
                "applicant": authorization_request.applicant,
                "organization": authorization.organization,
                "action_url": emails.public_url(f"/habilitations/{authorization.id}"),
                "action_label": "Prolonger ou mettre à jour",
            },
            event_id=f"{token.id}-{token.expires_at:%Y%m%d}-{threshold}",
        )
        count += 1
    db.session.commit()
    return count
