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

from sqlalchemy import and_, exists, false, func, or_, select, true
from sqlalchemy.orm import contains_eager

from datapass import search_text, workflow
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
from datapass.models.authorization_request import RequestLabels
from datapass.models.message import APPLICANT_SIDE
from datapass.models.organization import organization_display_name
from datapass.permissions import can_report, is_admin
from datapass.services import queue_keyset as keyset
from datapass.services import search_index

PAGE_SIZE = 25
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
    if "@" in text:
        pattern = search_text.like_pattern(text.lower())
        return func.lower(User.email).like(pattern, escape="\\")
    return AuthorizationRequest.id.in_(search_index.matching_ids(text))


def _with_plain_drafts(criteria: QueueCriteria) -> bool:
    """« Brouillon » chosen: drafts never submitted are listed too (no submission date: they
    sort as the oldest, by id)."""
    return workflow.DRAFT in criteria.states


def _filtered(criteria: QueueCriteria):
    catalog = get_catalog()
    submitted = AuthorizationRequest.last_submitted_at.is_not(None)
    if _with_plain_drafts(criteria):
        submitted = or_(submitted, AuthorizationRequest.state == workflow.DRAFT)
    conditions = [submitted]
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


def plain_drafts_sort_nullable(criteria: QueueCriteria) -> bool:
    """The sort column may be NULL (plain drafts by submission date): NULL is the smallest."""
    return _with_plain_drafts(criteria) and criteria.sort in ("recent", "ancien")


@dataclass(frozen=True, slots=True)
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


def base_query(criteria: QueueCriteria, *columns):
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
    _, descending = keyset.sort_columns(criteria.sort)
    nullable = plain_drafts_sort_nullable(criteria)
    query = base_query(criteria).with_only_columns(AuthorizationRequest.id)
    cursor = keyset.decode_cursor(after, criteria.sort) if after else None
    backwards = False
    if before and not cursor:
        cursor = keyset.decode_cursor(before, criteria.sort)
        backwards = cursor is not None
    if cursor is not None:
        query = query.where(
            keyset.beyond(criteria.sort, cursor, descending != backwards, nullable=nullable)
        )
    ordering = keyset.ordering(criteria.sort, descending != backwards, nullable=nullable)
    # The page's ids first (an index walk that stops after one page), then the rows and
    # their markers for those ids only: one statement.
    page_ids = query.order_by(*ordering).limit(PAGE_SIZE + 1).subquery()
    unread, answered, unverified = _markers()
    statement = (
        select(*ROW_COLUMNS, unread, answered, unverified)
        .join(page_ids, page_ids.c.id == AuthorizationRequest.id)
        .join(Organization, Organization.id == AuthorizationRequest.organization_id)
        .join(User, User.id == AuthorizationRequest.applicant_id)
        .order_by(*ordering)
    )
    results = db.session.execute(statement).all()
    more = len(results) > PAGE_SIZE
    results = results[:PAGE_SIZE]
    if backwards:
        results.reverse()
    rows = [QueueRow(*r[:-3], *(bool(marker) for marker in r[-3:])) for r in results]
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
