"""Instruction: the queue (filters, search, keyset pagination, CSV), decisions, messages.

Decisions run through ``workflow.apply`` and are protected by optimistic locking: the form
carries the version of the request it was made on; a decision on a stale version, or one
that loses a race (SQLAlchemy's ``version_id_col`` check at flush), is refused.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import String, and_, cast, exists, false, func, or_, select, tuple_
from sqlalchemy.orm import contains_eager
from sqlalchemy.orm.exc import StaleDataError

from datapass import blocks, workflow
from datapass.catalog import get_catalog
from datapass.errors import UserError
from datapass.extensions import db
from datapass.models import (
    Authorization,
    AuthorizationRequest,
    AuthorizationRequestEvent,
    Message,
    Organization,
    User,
)
from datapass.models.base import utcnow
from datapass.permissions import can_report, is_admin
from datapass.services import tokens

PAGE_SIZE = 25
# The states an instructor filters on (plain drafts are the applicant's own business).
QUEUE_STATES = (
    workflow.SUBMITTED,
    workflow.CHANGES_REQUESTED,
    workflow.VALIDATED,
    workflow.REFUSED,
    workflow.REVOKED,
    workflow.ARCHIVED,
    workflow.DRAFT,
)
DEFAULT_STATES = (workflow.SUBMITTED, workflow.CHANGES_REQUESTED)
SORTS = {
    "recent": "Dernière soumission, plus récente d’abord",
    "ancien": "Dernière soumission, plus ancienne d’abord",
    "id": "Numéro, plus récent d’abord",
    "etat": "État",
}


class DecisionError(UserError):
    """A decision that cannot be made; ``stale`` when the request changed meanwhile."""

    def __init__(self, message: str, *, stale: bool = False):
        super().__init__(message)
        self.stale = stale


STALE_MESSAGE = (
    "La demande a été modifiée entre-temps (par le demandeur ou un autre instructeur) : "
    "rechargez la page pour voir sa dernière version avant de décider."
)


# ---------------------------------------------------------------- the queue


def visible_definitions(user: User) -> list[str]:
    """The definitions whose requests the user may read (reporter or more, or admin)."""
    definitions = get_catalog().definitions
    if is_admin(user):
        return list(definitions)
    return [definition for definition in definitions if can_report(user, definition)]


@dataclass
class QueueCriteria:
    definitions: list[str]
    states: list[str] = field(default_factory=lambda: list(DEFAULT_STATES))
    form_uids: list[str] = field(default_factory=list)
    editor: str | None = None
    query: str = ""
    sort: str = "recent"
    explicit_definitions: bool = False

    @classmethod
    def from_args(cls, args, allowed_definitions: list[str]) -> QueueCriteria:
        definitions = [d for d in args.getlist("definition") if d in allowed_definitions]
        if "etat" in args:
            states = [s for s in args.getlist("etat") if s in QUEUE_STATES]
        else:
            states = list(DEFAULT_STATES)
        catalog = get_catalog()
        return cls(
            definitions=definitions or list(allowed_definitions),
            states=states,
            form_uids=[uid for uid in args.getlist("formulaire") if catalog.form(uid)],
            editor=args.get("editeur") if args.get("editeur") in catalog.editors else None,
            query=(args.get("q") or "").strip()[:200],
            sort=args.get("tri") if args.get("tri") in SORTS else "recent",
            explicit_definitions=bool(definitions),
        )

    def as_args(self) -> dict[str, Any]:
        """The criteria as query-string arguments (to keep them across pages)."""
        args: dict[str, Any] = {"etat": self.states, "tri": self.sort}
        if self.explicit_definitions:
            args["definition"] = self.definitions
        if self.form_uids:
            args["formulaire"] = self.form_uids
        if self.editor:
            args["editeur"] = self.editor
        if self.query:
            args["q"] = self.query
        return args


def _unindexed(column):
    """On SQLite, ``column || ''``: keeps the planner from picking this column's index.

    SQLite has no statistics unless ANALYZE ran: given ``definition_id = ?`` or
    ``state IN (…)`` it picks their index and then sorts every matching row. Without an
    index on them, it walks the ``(last_submitted_at, id)`` index in order and stops after
    one page. PostgreSQL has statistics, and an expression there would spoil its estimates
    (it would then sort everything), so the column is left alone.
    """
    if db.engine.dialect.name == "sqlite":
        return column.concat("")
    return column


def _search_condition(text: str):
    """Search by id (D123, H456, 123), SIRET, email, organisation name, intitulé, answers."""
    compact = re.sub(r"[\s.]", "", text)
    if match := re.fullmatch(r"([DdHh]?)(\d{1,9})", compact):
        prefix, number = match.group(1).upper(), int(match.group(2))
        if prefix == "H":
            return AuthorizationRequest.id.in_(
                select(Authorization.authorization_request_id).where(Authorization.id == number)
            )
        return AuthorizationRequest.id == number
    if re.fullmatch(r"\d{14}", compact):
        return Organization.siret == compact
    pattern = "%" + text.lower().replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_") + "%"
    if "@" in text:
        return func.lower(User.email).like(pattern, escape="\\")
    return or_(
        func.lower(Organization.name).like(pattern, escape="\\"),
        func.lower(AuthorizationRequest.intitule).like(pattern, escape="\\"),
        func.lower(cast(AuthorizationRequest.data, String)).like(pattern, escape="\\"),
    )


def _filtered(criteria: QueueCriteria):
    catalog = get_catalog()
    conditions = [AuthorizationRequest.last_submitted_at.is_not(None)]
    # Definitions and several states match most rows: through their index, the planner
    # (SQLite without statistics) would then sort every match. Unindexed, it walks the
    # (last_submitted_at, id) index in order and stops after one page.
    conditions.append(_unindexed(AuthorizationRequest.definition_id).in_(criteria.definitions))
    if len(criteria.states) == 1:
        conditions.append(AuthorizationRequest.state == criteria.states[0])
    elif criteria.states:
        conditions.append(_unindexed(AuthorizationRequest.state).in_(criteria.states))
    else:
        conditions.append(false())
    form_uids = list(criteria.form_uids)
    if criteria.editor:
        editor_forms = [
            uid
            for uid, form in catalog.forms.items()
            if form.editor and form.editor.id == criteria.editor
        ]
        form_uids = [uid for uid in form_uids if uid in editor_forms] if form_uids else editor_forms
        if not form_uids:
            conditions.append(false())
    if form_uids:
        conditions.append(AuthorizationRequest.form_uid.in_(form_uids))
    if criteria.query:
        conditions.append(_search_condition(criteria.query))
    return conditions


def _sort_columns(sort: str):
    """(columns, descending) of a sort: the keyset is the tuple of these columns."""
    if sort == "id":
        return (AuthorizationRequest.id,), True
    if sort == "etat":
        return (AuthorizationRequest.state, AuthorizationRequest.id), False
    descending = sort != "ancien"
    return (AuthorizationRequest.last_submitted_at, AuthorizationRequest.id), descending


def _encode_cursor(values: list) -> str:
    raw = json.dumps([v.isoformat() if isinstance(v, datetime) else v for v in values])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str, sort: str) -> list | None:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
    except (ValueError, TypeError):
        return None
    columns, _ = _sort_columns(sort)
    if not isinstance(values, list) or len(values) != len(columns):
        return None
    try:
        if sort in ("recent", "ancien"):
            return [datetime.fromisoformat(values[0]), int(values[1])]
        if sort == "etat":
            return [str(values[0]), int(values[1])]
        return [int(values[0])]
    except (TypeError, ValueError):
        return None


def _cursor_of(row: AuthorizationRequest, sort: str) -> str:
    columns, _ = _sort_columns(sort)
    return _encode_cursor([getattr(row, column.key) for column in columns])


@dataclass
class QueueRow:
    request: AuthorizationRequest
    unread_messages: bool
    answered_changes: bool


@dataclass
class QueuePage:
    rows: list[QueueRow]
    next_cursor: str | None
    previous_cursor: str | None


def _markers():
    unread = (
        exists()
        .where(
            Message.authorization_request_id == AuthorizationRequest.id,
            Message.sender_side == "applicant",
            Message.read_at.is_(None),
        )
        .label("unread")
    )
    answered = (
        and_(
            AuthorizationRequest.state == workflow.SUBMITTED,
            exists().where(
                AuthorizationRequestEvent.authorization_request_id == AuthorizationRequest.id,
                AuthorizationRequestEvent.name == "request_changes",
            ),
        )
    ).label("answered")
    return unread, answered


def _base_query(criteria: QueueCriteria, *columns):
    return (
        select(AuthorizationRequest, *columns)
        .join(AuthorizationRequest.organization)
        .join(AuthorizationRequest.applicant)
        .options(
            contains_eager(AuthorizationRequest.organization),
            contains_eager(AuthorizationRequest.applicant),
        )
        .where(*_filtered(criteria))
    )


def queue_page(
    criteria: QueueCriteria, *, after: str | None = None, before: str | None = None
) -> QueuePage:
    """One page of 25 in a single query, by keyset: page 400 costs what page 1 costs."""
    columns, descending = _sort_columns(criteria.sort)
    query = _base_query(criteria).with_only_columns(AuthorizationRequest.id)
    cursor = _decode_cursor(after, criteria.sort) if after else None
    backwards = False
    if before and not cursor:
        cursor = _decode_cursor(before, criteria.sort)
        backwards = cursor is not None
    if cursor is not None:
        key = tuple_(*columns) if len(columns) > 1 else columns[0]
        value = tuple_(*cursor) if len(columns) > 1 else cursor[0]
        forward_less = descending != backwards
        query = query.where(key < value if forward_less else key > value)
    order_desc = descending != backwards
    ordering = [c.desc() if order_desc else c.asc() for c in columns]
    # The page's ids first (an index walk that stops after one page), then the rows and
    # their markers for those ids only: one statement.
    page_ids = query.order_by(*ordering).limit(PAGE_SIZE + 1).subquery()
    unread, answered = _markers()
    statement = (
        select(AuthorizationRequest, unread, answered)
        .join(page_ids, page_ids.c.id == AuthorizationRequest.id)
        .join(AuthorizationRequest.organization)
        .join(AuthorizationRequest.applicant)
        .options(
            contains_eager(AuthorizationRequest.organization),
            contains_eager(AuthorizationRequest.applicant),
        )
        .order_by(*ordering)
    )
    results = db.session.execute(statement).all()
    more = len(results) > PAGE_SIZE
    results = results[:PAGE_SIZE]
    if backwards:
        results.reverse()
    rows = [QueueRow(r[0], bool(r[1]), bool(r[2])) for r in results]
    has_next = more if not backwards else True
    has_previous = (cursor is not None) if not backwards else more
    return QueuePage(
        rows=rows,
        next_cursor=_cursor_of(rows[-1].request, criteria.sort) if rows and has_next else None,
        previous_cursor=(
            _cursor_of(rows[0].request, criteria.sort) if rows and has_previous else None
        ),
    )


def count_matching(criteria: QueueCriteria) -> int:
    subquery = _base_query(criteria).with_only_columns(AuthorizationRequest.id).subquery()
    return db.session.scalar(select(func.count()).select_from(subquery)) or 0


CSV_HEADER = (
    "ID",
    "État",
    "Dernière soumission",
    "Demandeur",
    "Organisation",
    "SIRET",
    "Intitulé",
    "Démarche",
    "Éditeur",
)


def export_csv(criteria: QueueCriteria, *, batch: int = 500) -> Iterator[str]:
    """The filtered list as CSV lines (UTF-8 with BOM, « ; »), fetched by keyset batches."""
    catalog = get_catalog()
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(CSV_HEADER)
    yield "\ufeff" + flush()
    columns, descending = _sort_columns(criteria.sort)
    cursor = None
    while True:
        query = _base_query(criteria)
        if cursor is not None:
            key = tuple_(*columns) if len(columns) > 1 else columns[0]
            value = tuple_(*cursor) if len(columns) > 1 else cursor[0]
            query = query.where(key < value if descending else key > value)
        query = query.order_by(*(c.desc() if descending else c.asc() for c in columns))
        rows = db.session.scalars(query.limit(batch)).all()
        for request in rows:
            form = catalog.form(request.form_uid)
            submitted = request.last_submitted_at
            writer.writerow(
                (
                    request.public_reference,
                    request.state_label,
                    submitted.strftime("%d/%m/%Y %H:%M") if submitted else "",
                    request.applicant.email,
                    request.organization.display_name,
                    request.organization.siret,
                    _csv_safe(request.intitule or ""),
                    form.name if form else request.form_uid,
                    form.editor.name if form and form.editor else "",
                )
            )
        if rows:
            yield flush()
        if len(rows) < batch:
            return
        cursor = [getattr(rows[-1], column.key) for column in columns]
        db.session.expunge_all()


def _csv_safe(text: str) -> str:
    """Neutralise spreadsheet formulas typed by applicants (CSV injection)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


# ---------------------------------------------------------------- habilitations tab


def authorizations_page(definitions: list[str], *, after: int | None = None, query: str = ""):
    """Habilitations, newest first, by keyset on id; one query."""
    statement = (
        select(Authorization)
        .join(Authorization.organization)
        .join(Authorization.request)
        .options(contains_eager(Authorization.organization), contains_eager(Authorization.request))
        .where(_unindexed(Authorization.definition_id).in_(definitions))
    )
    if query:
        compact = re.sub(r"\s", "", query)
        if match := re.fullmatch(r"[Hh]?(\d{1,9})", compact):
            statement = statement.where(Authorization.id == int(match.group(1)))
        elif re.fullmatch(r"\d{14}", compact):
            statement = statement.where(Organization.siret == compact)
        else:
            pattern = f"%{query.lower()}%"
            statement = statement.where(
                or_(
                    func.lower(Organization.name).like(pattern),
                    func.lower(AuthorizationRequest.intitule).like(pattern),
                )
            )
    if after:
        statement = statement.where(Authorization.id < after)
    rows = db.session.scalars(statement.order_by(Authorization.id.desc()).limit(PAGE_SIZE + 1))
    rows = rows.all()
    return rows[:PAGE_SIZE], (rows[PAGE_SIZE - 1].id if len(rows) > PAGE_SIZE else None)


# ---------------------------------------------------------------- decisions


def check_version(request: AuthorizationRequest, version: Any) -> None:
    try:
        seen = int(version)
    except (TypeError, ValueError):
        seen = None
    if seen != request.version:
        raise DecisionError(STALE_MESSAGE, stale=True)


def _transition(request, event, user, *, reason=None, payload=None) -> None:
    try:
        workflow.apply(
            request,
            event,
            actor=user,
            role=workflow.INSTRUCTOR,
            reason=reason,
            payload=payload,
        )
    except workflow.TransitionError as error:
        raise DecisionError(error.message) from error


def _approve(request: AuthorizationRequest, user: User, message: str | None) -> Authorization:
    now = utcnow()
    for previous in request.authorizations:
        if previous.state == "active":
            previous.state = "obsolete"
            tokens.retire_tokens(previous, now=now)
    authorization = Authorization(
        definition_id=request.definition_id,
        form_uid=request.form_uid,
        organization=request.organization,
        applicant=request.applicant,
        data=dict(request.data or {}),
        message=message,
        approved_by=user,
        created_at=now,
    )
    authorization.documents.extend(request.documents)
    request.authorizations.append(authorization)
    # No habilitation without its token, in the same transaction.
    tokens.issue(authorization, now=now)
    db.session.flush()
    _transition(
        request, "approve", user, reason=message, payload={"authorization": authorization.id}
    )
    request.events[-1].authorization_id = authorization.id
    return authorization


def _revoke_all(request: AuthorizationRequest, reason: str) -> None:
    now = utcnow()
    for authorization in request.authorizations:
        if authorization.state == "active":
            authorization.state = "revoked"
            authorization.revoked_at = now
            authorization.revocation_reason = reason
            tokens.revoke_tokens(authorization, now=now)


def decide(
    request: AuthorizationRequest,
    event: str,
    user: User,
    *,
    version: Any,
    reason: str | None = None,
) -> Authorization | None:
    """Make a decision on ``request`` as an instructor; commit. Raises ``DecisionError``."""
    check_version(request, version)
    reason = (reason or "").strip() or None
    authorization = None
    if event == "approve":
        authorization = _approve(request, user, reason)
    elif event == "revoke":
        if not reason:
            raise DecisionError("Veuillez indiquer un motif.")
        _transition(request, "revoke", user, reason=reason)
        _revoke_all(request, reason)
    elif event in ("request_changes", "refuse", "archive", "cancel_reopening"):
        was_reopening = request.is_reopening
        _transition(request, event, user, reason=reason)
        if event in ("refuse", "cancel_reopening") and was_reopening:
            _restore_validated(request)
    else:
        raise DecisionError("Cette action n’existe pas.")
    _commit()
    return authorization


def revoke_authorization(authorization: Authorization, user: User, *, reason: str) -> None:
    """Revoke one habilitation; the request follows when it held no other active one."""
    reason = (reason or "").strip()
    if not reason:
        raise DecisionError("Veuillez indiquer un motif.")
    if authorization.state != "active":
        raise DecisionError("Cette habilitation n’est pas active.")
    request = authorization.request
    others = [a for a in request.authorizations if a is not authorization and a.state == "active"]
    if not others and request.state == workflow.VALIDATED:
        _transition(request, "revoke", user, reason=reason)
    else:
        request.record_event(
            "revoke",
            actor=user,
            reason=reason,
            payload={"authorization": authorization.id},
        )
    authorization.state = "revoked"
    authorization.revoked_at = utcnow()
    authorization.revocation_reason = reason
    tokens.revoke_tokens(authorization)
    _commit()


def _restore_validated(request: AuthorizationRequest) -> None:
    """A refused or cancelled reopening: back to the answers of the validated habilitation."""
    active = [a for a in request.authorizations if a.state == "active"]
    if active:
        request.data = dict(active[-1].data or {})
        request.intitule = request.data.get("intitule")


def _commit() -> None:
    try:
        db.session.commit()
    except StaleDataError as error:
        db.session.rollback()
        raise DecisionError(STALE_MESSAGE, stale=True) from error


def transfer(request: AuthorizationRequest, user: User, new_applicant: User | None) -> None:
    if new_applicant is None:
        raise DecisionError(
            "Aucun compte DataPass n’utilise cette adresse : la personne doit s’être connectée "
            "au moins une fois."
        )
    if not workflow.can_transfer(request, workflow.INSTRUCTOR):
        raise DecisionError("Cette demande ne peut pas être transférée dans son état actuel.")
    if request.organization_id not in new_applicant.verified_organization_ids:
        raise DecisionError(
            "Le nouveau demandeur doit être un membre vérifié de l’organisation de la demande."
        )
    previous = request.applicant
    request.applicant = new_applicant
    request.record_event(
        workflow.TRANSFER, actor=user, payload={"from": previous.email, "to": new_applicant.email}
    )
    _commit()


# ---------------------------------------------------------------- messages


def post_instructor_message(request: AuthorizationRequest, user: User, body: str) -> Message:
    message = Message(author=user, sender_side="instructor", body=body.strip())
    request.messages.append(message)
    db.session.flush()
    event = request.record_event("instructor_message", actor=user)
    event.message_id = message.id
    db.session.commit()
    return message


def mark_read(request: AuthorizationRequest, side: str) -> int:
    """Mark the messages written by ``side`` as read by the other side; commit if any."""
    now = utcnow()
    count = 0
    for message in request.messages:
        if message.sender_side == side and message.read_at is None:
            message.read_at = now
            count += 1
    if count:
        db.session.commit()
    return count


def mark_processed(message: Message) -> None:
    message.processed_at = utcnow()
    if message.read_at is None:
        message.read_at = message.processed_at
    db.session.commit()


# ---------------------------------------------------------------- what changed, in words


def describe_changes(event: AuthorizationRequestEvent, form) -> list[str]:
    """The changes a submission brought, as French sentences for the timeline."""
    payload = event.payload or {}
    changes = payload.get("changes")
    if changes is None:
        return []
    labels = field_labels(form)
    definition = form.definition if form else None

    def scope_label(value: str) -> str:
        scope = definition.scope(value) if definition else None
        return f"« {scope.label} »" if scope else f"« {value} »"

    sentences = []
    fields = changes.get("fields") or {}
    if payload.get("first_submission"):
        # Against the pre-filled values: only the pre-filled ones that changed matter.
        changed = {name: pair for name, pair in fields.items() if pair[0]}
        if not changed and not changes.get("scopes_removed"):
            sentences.append("Premier dépôt sans modification des données pré-remplies.")
        for name, (old, new) in changed.items():
            label = labels.get(name, name)
            sentences.append(f"Valeur pré-remplie modifiée : {label} (« {old} » → « {new} »).")
        if removed := changes.get("scopes_removed"):
            sentences.append(
                "Données pré-cochées retirées : " + ", ".join(scope_label(s) for s in removed) + "."
            )
        if added := changes.get("scopes_added"):
            sentences.append(
                "Données demandées : " + ", ".join(scope_label(s) for s in added) + "."
            )
        if added := changes.get("documents_added"):
            sentences.append("Documents joints : " + ", ".join(f"« {d} »" for d in added) + ".")
        return sentences
    for name, (old, new) in fields.items():
        label = labels.get(name, name)
        if not old:
            sentences.append(f"{label} renseigné : « {new} ».")
        elif not new:
            sentences.append(f"{label} vidé (c’était « {old} »).")
        else:
            sentences.append(f"{label} modifié : « {old} » → « {new} ».")
    if added := changes.get("scopes_added"):
        sentences.append("Données ajoutées : " + ", ".join(scope_label(s) for s in added) + ".")
    if removed := changes.get("scopes_removed"):
        sentences.append("Données retirées : " + ", ".join(scope_label(s) for s in removed) + ".")
    if added := changes.get("documents_added"):
        sentences.append("Documents ajoutés : " + ", ".join(f"« {d} »" for d in added) + ".")
    if removed := changes.get("documents_removed"):
        sentences.append("Documents retirés : " + ", ".join(f"« {d} »" for d in removed) + ".")
    if changes.get("modalities_added") or changes.get("modalities_removed"):
        sentences.append("Modalités d’appel modifiées.")
    if not sentences:
        sentences.append("Aucune modification depuis le dépôt précédent.")
    return sentences


def field_labels(form) -> dict[str, str]:
    return blocks.field_labels(form)
