"""The instruction queue: criteria, search, keyset pages, counts, habilitations.

One page is one query, whatever its depth (keyset pagination on the sort columns), its
markers (unread message, answered changes, unverified membership) included, selecting the
columns the page shows only (never the answers). The CSV export (queue_export.py) walks the
same keyset by batches and streams.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Select,
    and_,
    bindparam,
    exists,
    func,
    literal_column,
    or_,
    select,
    true,
)
from sqlalchemy.orm import contains_eager

from datapass import workflow
from datapass.catalog import get_catalog
from datapass.database import read_connection
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
from datapass.models.authorization_request import RequestLabels
from datapass.models.message import APPLICANT_SIDE
from datapass.models.organization import organization_display_name
from datapass.permissions import can_report, is_admin
from datapass.services import queue_keyset as keyset
from datapass.services.queue_filter import (
    FilterShape,
    conditions,
    filter_values,
    unindexed,
    with_plain_drafts,
)
from datapass.services.queue_statement import CompiledSelect

PAGE_SIZE = 25
# The page statement's LIMIT, one more line than a page (is there a next one?), written in
# its SQL rather than bound: PostgreSQL then plans the prepared statement once (a generic
# plan) instead of at every page. With the limit as a parameter, the generic plan cannot
# know that the walk stops after 26 rows: it costs it as a sort of every matching request,
# so PostgreSQL plans each execution anew (about 1 ms, more than the execution itself).
PAGE_LIMIT = literal_column(str(PAGE_SIZE + 1))
# The states an instructor filters on; « Brouillon » lists drafts never submitted too.
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


def plain_drafts_sort_nullable(criteria: QueueCriteria) -> bool:
    """The sort column may be NULL (plain drafts by submission date): NULL is the smallest."""
    return with_plain_drafts(criteria) and criteria.sort in ("recent", "ancien")


@dataclass(slots=True)
class QueueRow(RequestLabels):
    """One line of the queue: the columns it shows, never the request's answers."""

    id: int
    state: str
    last_submitted_at: datetime | None
    decision_deadline: datetime | None
    last_validated_at: datetime | None
    reopened_at: datetime | None
    intitule: str | None
    form_uid: str
    applicant_email: str
    organization_name: str | None
    organization_siret: str
    unread_messages: bool
    answered_changes: bool
    unverified_membership: bool

    @property
    def organization_display_name(self) -> str:
        return organization_display_name(self.organization_name, self.organization_siret)


# What a queue line shows, in QueueRow's order (its markers follow).
ROW_COLUMNS = (
    AuthorizationRequest.id,
    AuthorizationRequest.state,
    AuthorizationRequest.last_submitted_at,
    AuthorizationRequest.decision_deadline,
    AuthorizationRequest.last_validated_at,
    AuthorizationRequest.reopened_at,
    AuthorizationRequest.intitule,
    AuthorizationRequest.form_uid,
    User.email,
    Organization.name,
    Organization.siret,
)


@dataclass
class QueuePage:
    rows: list[QueueRow]
    next_cursor: str | None
    previous_cursor: str | None


def _markers(dialect: str):
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
    # on memberships' unique (user, organisation) index per line of the page. On PostgreSQL,
    # no row of an outer join (``_page_statement``): as a NOT EXISTS it hashed every verified
    # membership at each page (a scan of the table). On SQLite the reverse: the outer join
    # builds a Bloom filter over the whole table at each page, the NOT EXISTS looks up 25 rows.
    if dialect == "sqlite":
        unverified = ~exists().where(_verified_membership())
    else:
        unverified = Membership.id.is_(None)
    return unread, answered, unverified.label("unverified")


def _verified_membership():
    return and_(
        Membership.user_id == AuthorizationRequest.applicant_id,
        Membership.organization_id == AuthorizationRequest.organization_id,
        Membership.verified == true(),
    )


def base_query(criteria: QueueCriteria, *columns):
    return (
        select(AuthorizationRequest, *columns)
        .join(AuthorizationRequest.organization)
        .join(AuthorizationRequest.applicant)
        .options(
            contains_eager(AuthorizationRequest.organization),
            contains_eager(AuthorizationRequest.applicant),
        )
        .where(*conditions(*filter_values(criteria)))
    )


# Page statements by shape (the filter's, the sort, the walk's direction, the cursor's): each
# is built and compiled once, then executed with the values of each page (``filter_values``,
# cursor) on the driver (services/queue_statement.py).
_PAGE_STATEMENTS: dict[tuple, CompiledSelect] = {}
_MAX_PAGE_STATEMENTS = 512


def _page_statement(
    sort: str, shape: FilterShape, params: dict, descending: bool, cursor, *, nullable: bool
) -> Select:
    """The page's ids first (an index walk that stops after one page), then the rows and
    their markers for those ids only: one statement."""
    query = select(AuthorizationRequest.id)
    if shape.search in ("siret", "email"):
        query = query.join(AuthorizationRequest.organization).join(AuthorizationRequest.applicant)
    query = query.where(*conditions(shape, params))
    ordering = keyset.ordering(sort, descending, nullable=nullable)
    if nullable:
        page_ids = keyset.nullable_walk(query, cursor, descending, PAGE_LIMIT).subquery()
    else:
        if cursor is not None:
            query = query.where(keyset.beyond(sort, cursor, descending, nullable=False))
        page_ids = query.order_by(*ordering).limit(PAGE_LIMIT).subquery()
    statement = (
        select(*ROW_COLUMNS, *_markers(shape.dialect))
        .join(page_ids, page_ids.c.id == AuthorizationRequest.id)
        .join(Organization, Organization.id == AuthorizationRequest.organization_id)
        .join(User, User.id == AuthorizationRequest.applicant_id)
    )
    if shape.dialect != "sqlite":
        statement = statement.outerjoin(Membership, _verified_membership())
    return statement.order_by(*ordering)


def _cursor_parameters(sort: str, cursor: list | None, params: dict) -> list | None:
    """The cursor's values as named parameters (added to ``params``); an undated cursor's
    first value (a plain draft's) stays None: the condition differs (queue_keyset.beyond)."""
    if cursor is None:
        return None
    columns, _ = keyset.sort_columns(sort)
    bound = []
    for index, (column, value) in enumerate(zip(columns, cursor, strict=True)):
        if value is None:
            bound.append(None)
            continue
        params[f"cursor_{index}"] = value
        bound.append(bindparam(f"cursor_{index}", value, type_=column.type))
    return bound


def queue_page(
    criteria: QueueCriteria, *, after: str | None = None, before: str | None = None
) -> QueuePage:
    """One page of 25 in a single query, by keyset: page 400 costs what page 1 costs."""
    _, descending = keyset.sort_columns(criteria.sort)
    nullable = plain_drafts_sort_nullable(criteria)
    cursor = keyset.decode_cursor(after, criteria.sort) if after else None
    backwards = False
    if before and not cursor:
        cursor = keyset.decode_cursor(before, criteria.sort)
        backwards = cursor is not None
    shape, params = filter_values(criteria)
    bound_cursor = _cursor_parameters(criteria.sort, cursor, params)
    walk = descending != backwards
    key = None
    if shape.cacheable:
        undated = cursor is not None and cursor[0] is None
        key = (shape, criteria.sort, walk, nullable, cursor is not None, undated)
    compiled = _PAGE_STATEMENTS.get(key) if key else None
    connection = read_connection()
    if compiled is None:
        statement = _page_statement(
            criteria.sort, shape, params, walk, bound_cursor, nullable=nullable
        )
        if not key:  # the free-text search: its pattern is in the statement
            results = connection.execute(statement, params).all()
        else:
            if len(_PAGE_STATEMENTS) >= _MAX_PAGE_STATEMENTS:
                _PAGE_STATEMENTS.clear()
            compiled = _PAGE_STATEMENTS[key] = CompiledSelect(statement, connection.dialect)
    if compiled is not None:
        results = compiled.rows(connection, params)
    more = len(results) > PAGE_SIZE
    results = results[:PAGE_SIZE]
    if backwards:
        results.reverse()
    rows = [QueueRow(*r[:-3], bool(r[-3]), bool(r[-2]), bool(r[-1])) for r in results]
    has_next = more if not backwards else True
    has_previous = (cursor is not None) if not backwards else more
    return QueuePage(
        rows=rows,
        next_cursor=(keyset.cursor_of(rows[-1], criteria.sort) if rows and has_next else None),
        previous_cursor=(
            keyset.cursor_of(rows[0], criteria.sort) if rows and has_previous else None
        ),
    )


def count_matching(criteria: QueueCriteria) -> int:
    subquery = base_query(criteria).with_only_columns(AuthorizationRequest.id).subquery()
    return db.session.scalar(select(func.count()).select_from(subquery)) or 0


# ---------------------------------------------------------------- habilitations tab


def authorizations_page(definitions: list[str], *, after: int | None = None, query: str = ""):
    """Habilitations, newest first, by keyset on id; one query."""
    statement = (
        select(Authorization)
        .join(Authorization.organization)
        .join(Authorization.request)
        .options(contains_eager(Authorization.organization), contains_eager(Authorization.request))
        .where(unindexed(Authorization.definition_id).in_(definitions))
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
