"""The instruction queue: criteria, search, keyset pages, counts, CSV export, habilitations.

One page is one query, whatever its depth (keyset pagination on the sort columns), its
markers (unread message, answered changes, unverified membership) included; the CSV export
walks the same keyset by batches and streams.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import String, and_, cast, exists, false, func, or_, select, true, tuple_
from sqlalchemy.orm import contains_eager

from datapass import workflow
from datapass.catalog import get_catalog
from datapass.extensions import db
from datapass.models import (
    Authorization,
    AuthorizationRequest,
    AuthorizationRequestEvent,
    Membership,
    Message,
    Organization,
    User,
)
from datapass.models.message import APPLICANT_SIDE
from datapass.permissions import can_report, is_admin
from datapass.services.csv_files import csv_lines

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
    "echeance": "Échéance la plus proche",
}
# Sorts by a timestamp: (that column, id) is the keyset.
DATE_SORTS = ("recent", "ancien", "echeance")


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
            for uid, catalog_form in catalog.forms.items()
            if catalog_form.editor and catalog_form.editor.id == criteria.editor
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
    if sort == "echeance":
        return (AuthorizationRequest.decision_deadline, AuthorizationRequest.id), False
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
        if sort in DATE_SORTS:
            return [datetime.fromisoformat(values[0]), _sql_int(values[1])]
        if sort == "etat":
            return [str(values[0]), _sql_int(values[1])]
        return [_sql_int(values[0])]
    except (TypeError, ValueError):
        return None


def _sql_int(value) -> int:
    """An id of a cursor: an integer an SQL column can hold, else ValueError."""
    number = int(value)
    if not 0 <= number <= 2**31 - 1:
        raise ValueError(value)
    return number


def _cursor_of(row: AuthorizationRequest, sort: str) -> str:
    columns, _ = _sort_columns(sort)
    return _encode_cursor([getattr(row, column.key) for column in columns])


@dataclass
class QueueRow:
    authorization_request: AuthorizationRequest
    unread_messages: bool
    answered_changes: bool
    unverified_membership: bool


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
            Message.sender_side == APPLICANT_SIDE,
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
    # The applicant is not a verified member of the request's organisation: an index lookup
    # on memberships for each row of the page.
    unverified = (
        ~exists().where(
            Membership.user_id == AuthorizationRequest.applicant_id,
            Membership.organization_id == AuthorizationRequest.organization_id,
            Membership.verified == true(),
        )
    ).label("unverified")
    return unread, answered, unverified


def _base_query(criteria: QueueCriteria, *columns):
    sorted_by_deadline = (
        [AuthorizationRequest.decision_deadline.is_not(None)] if criteria.sort == "echeance" else []
    )
    return (
        select(AuthorizationRequest, *columns)
        .join(AuthorizationRequest.organization)
        .join(AuthorizationRequest.applicant)
        .options(
            contains_eager(AuthorizationRequest.organization),
            contains_eager(AuthorizationRequest.applicant),
        )
        .where(*_filtered(criteria), *sorted_by_deadline)
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
    unread, answered, unverified = _markers()
    statement = (
        select(AuthorizationRequest, unread, answered, unverified)
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
    rows = [QueueRow(r[0], bool(r[1]), bool(r[2]), bool(r[3])) for r in results]
    has_next = more if not backwards else True
    has_previous = (cursor is not None) if not backwards else more
    return QueuePage(
        rows=rows,
        next_cursor=(
            _cursor_of(rows[-1].authorization_request, criteria.sort) if rows and has_next else None
        ),
        previous_cursor=(
            _cursor_of(rows[0].authorization_request, criteria.sort)
            if rows and has_previous
            else None
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
    """The filtered list as CSV lines (UTF-8 with BOM, « ; »), fetched by keyset batches."""
    return csv_lines(CSV_HEADER, _export_rows(criteria, batch))


def _export_rows(criteria: QueueCriteria, batch: int) -> Iterator[tuple]:
    catalog = get_catalog()
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
        for authorization_request in rows:
            catalog_form = catalog.form(authorization_request.form_uid)
            submitted = authorization_request.last_submitted_at
            yield (
                authorization_request.public_reference,
                authorization_request.state_label,
                submitted.strftime("%d/%m/%Y %H:%M") if submitted else "",
                authorization_request.applicant.email,
                authorization_request.organization.display_name,
                authorization_request.organization.siret,
                authorization_request.intitule or "",
                catalog_form.name if catalog_form else authorization_request.form_uid,
                catalog_form.editor.name if catalog_form and catalog_form.editor else "",
            )
        if len(rows) < batch:
            return
        cursor = [getattr(rows[-1], column.key) for column in columns]
        db.session.expunge_all()


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
