"""The audit log: record (in the caller's transaction) and read (``/admin/journal``).

Services call ``record`` next to the change they make, so both commit together. Two kinds
of change are caught where they happen, at the flush (``register``): API clients and
webhooks, whatever page or command changes them, and every write made while an
administrator acts as another user (« Se connecter en tant que »), recorded with both
identities.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import g, has_request_context
from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session, joinedload

from datapass.extensions import db
from datapass.models import ApiClient, AuditEntry, User, UserSession, Webhook
from datapass.models.audit import CLIENT_CHANGED, IMPERSONATED_WRITE, WEBHOOK_CHANGED
from datapass.models.user import SessionUser

PAGE_SIZE = 50


def record(
    kind: str,
    *,
    actor: User | None,
    reason: str | None = None,
    target_user: User | None = None,
    organization_id: int | None = None,
    authorization_request_id: int | None = None,
    details: dict[str, Any] | None = None,
    session: Session | None = None,
) -> AuditEntry:
    """Append an entry (no commit). An impersonated ``actor`` brings its administrator."""
    entry = AuditEntry(
        kind=kind,
        actor_id=actor.id if actor is not None else None,
        impersonator_id=impersonator_id(actor),
        target_user_id=target_user.id if target_user is not None else None,
        organization_id=organization_id,
        authorization_request_id=authorization_request_id,
        reason=reason,
        details=details or {},
    )
    (session or db.session).add(entry)
    return entry


def impersonator_id(user: User | None) -> int | None:
    admin = getattr(user, "impersonator", None)
    return admin.id if admin is not None else None


# ---------------------------------------------------------------- caught at the flush


def _request_user() -> User | None:
    """The user of the current request, when it is already loaded (never loads it here)."""
    if not has_request_context():
        return None
    user = g.get("_login_user")
    return user if isinstance(user, User | SessionUser) else None


# The columns whose change is a change of the client or webhook (not its usage counters).
WATCHED = {
    ApiClient: (CLIENT_CHANGED, ("name", "secret_hash", "scopes", "definition_id", "revoked_at")),
    Webhook: (WEBHOOK_CHANGED, ("url", "events", "definition_id", "sealed_secret", "enabled")),
}


def _changed_columns(instance, columns: tuple[str, ...]) -> list[str]:
    state = inspect(instance)
    return [name for name in columns if state.attrs[name].history.has_changes()]


def _watched(session: Session) -> list[tuple[str, dict]]:
    found = []
    for instance in [*session.new, *session.dirty, *session.deleted]:
        watched = WATCHED.get(type(instance))
        if watched is None:
            continue
        kind, columns = watched
        if instance in session.new:
            change, fields = "created", []
        elif instance in session.deleted:
            change, fields = "deleted", []
        else:
            change, fields = "changed", _changed_columns(instance, columns)
            if not fields:
                continue
        label = getattr(instance, "name", None) or getattr(instance, "url", None)
        found.append((kind, {"change": change, "fields": fields, "label": label}))
    return found


def _before_flush(session: Session, flush_context, instances) -> None:
    actor = _request_user()
    for kind, details in _watched(session):
        record(kind, actor=actor, details=details, session=session)
    if actor is None or getattr(actor, "impersonator", None) is None:
        return
    touched = sorted(
        {
            getattr(instance, "__tablename__", "")
            for instance in [*session.new, *session.dirty, *session.deleted]
            if not isinstance(instance, AuditEntry | UserSession)
            and (instance not in session.dirty or session.is_modified(instance))
        }
    )
    if touched:
        record(IMPERSONATED_WRITE, actor=actor, details={"tables": touched}, session=session)


def register() -> None:
    """Listen to every session's flushes (once per process)."""
    if not event.contains(Session, "before_flush", _before_flush):
        event.listen(Session, "before_flush", _before_flush)


# ---------------------------------------------------------------- reading


@dataclass(frozen=True)
class JournalFilters:
    kind: str | None = None
    actor_email: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def journal_page(
    filters: JournalFilters, *, before: int | None = None, size: int = PAGE_SIZE
) -> tuple[list[AuditEntry], int | None]:
    """Newest first, ``size`` a page (keyset on the id: ``before`` the last one seen).
    Returns the entries and the id to continue before, or None on the last page."""
    query = select(AuditEntry).options(
        joinedload(AuditEntry.actor),
        joinedload(AuditEntry.impersonator),
        joinedload(AuditEntry.target_user),
    )
    if filters.kind:
        query = query.where(AuditEntry.kind == filters.kind)
    if filters.actor_email:
        admins = select(User.id).where(User.email == filters.actor_email.strip().lower())
        query = query.where(
            AuditEntry.actor_id.in_(admins) | AuditEntry.impersonator_id.in_(admins)
        )
    if filters.since:
        query = query.where(AuditEntry.created_at >= filters.since)
    if filters.until:
        query = query.where(AuditEntry.created_at < filters.until)
    if before:
        query = query.where(AuditEntry.id < before)
    rows = list(db.session.scalars(query.order_by(AuditEntry.id.desc()).limit(size + 1)))
    next_before = rows[size - 1].id if len(rows) > size else None
    return rows[:size], next_before
