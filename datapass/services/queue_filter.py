"""The queue's filter: which requests match the criteria, as SQL conditions.

A filter has a *shape* (which conditions: one state or several, forms or not, the kind of
search…) and *values* (which states, which forms, the searched number…), kept apart: the
conditions carry the values as named parameters, so that ``services/queue.py`` builds the
statement of a shape once and executes it with each page's values.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, NamedTuple

from sqlalchemy import bindparam, false, func, or_, select

from datapass import search_text, workflow
from datapass.catalog import get_catalog
from datapass.extensions import db
from datapass.models import Authorization, AuthorizationRequest, Organization, User
from datapass.services import search_index

if TYPE_CHECKING:
    from datapass.services.queue import QueueCriteria


def unindexed(column):
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


class FilterShape(NamedTuple):
    """Which conditions a filter has (not their values): queries of the same shape differ by
    their parameters only, so their statement is built once (``queue_page``)."""

    dialect: str
    drafts: bool  # « Brouillon »: plain drafts too
    states: str  # "one", "many", "none"
    forms: str  # "", "in", "none" (an editor without forms in the criteria)
    search: str  # "", "request", "authorization", "siret", "email", "text"
    by_deadline: bool

    @property
    def cacheable(self) -> bool:
        # The free-text search's subquery holds its pattern (services/search_index.py).
        return self.search != "text"


def _search_values(text: str) -> tuple[str, Any]:
    """(kind, value) of a search: by id (D123, H456, 123), SIRET, email, else free text
    (organisation name, intitulé, answers)."""
    compact = re.sub(r"[\s.]", "", text)
    if match := re.fullmatch(r"([DdHh]?)(\d{1,9})", compact):
        prefix, number = match.group(1).upper(), int(match.group(2))
        return ("authorization" if prefix == "H" else "request"), number
    if re.fullmatch(r"\d{14}", compact):
        return "siret", compact
    if "@" in text:
        return "email", search_text.like_pattern(text.lower())
    return "text", text


def _search_condition(kind: str, value):
    search = bindparam("search", value)
    if kind == "authorization":
        return AuthorizationRequest.id.in_(
            select(Authorization.authorization_request_id).where(Authorization.id == search)
        )
    if kind == "request":
        return AuthorizationRequest.id == search
    if kind == "siret":
        return Organization.siret == search
    if kind == "email":
        return func.lower(User.email).like(search, escape="\\")
    return AuthorizationRequest.id.in_(search_index.matching_ids(value))


def with_plain_drafts(criteria: QueueCriteria) -> bool:
    """« Brouillon » chosen: drafts never submitted are listed too (no submission date: they
    sort as the oldest, by id)."""
    return workflow.DRAFT in criteria.states


def filter_values(criteria: QueueCriteria) -> tuple[FilterShape, dict[str, Any]]:
    """The criteria's filter: its shape and its values by parameter name (no SQL built)."""
    params: dict[str, Any] = {"definitions": list(criteria.definitions)}
    states = "none"
    if len(criteria.states) == 1:
        states, params["state"] = "one", criteria.states[0]
    elif criteria.states:
        states, params["states"] = "many", list(criteria.states)
    form_uids = list(criteria.form_uids)
    forms = ""
    if criteria.editor:
        editor_forms = [
            uid
            for uid, catalog_form in get_catalog().forms.items()
            if catalog_form.editor and catalog_form.editor.id == criteria.editor
        ]
        form_uids = [uid for uid in form_uids if uid in editor_forms] if form_uids else editor_forms
        forms = "none" if not form_uids else ""
    if form_uids and not forms:
        forms, params["form_uids"] = "in", form_uids
    search = ""
    if criteria.query:
        search, params["search"] = _search_values(criteria.query)
    shape = FilterShape(
        db.engine.dialect.name,
        with_plain_drafts(criteria),
        states,
        forms,
        search,
        criteria.sort == "echeance",
    )
    return shape, params


def conditions(shape: FilterShape, params: dict[str, Any]) -> list:
    """The WHERE of a filter, its values as named parameters (given again at execution)."""
    submitted = AuthorizationRequest.last_submitted_at.is_not(None)
    if shape.drafts:
        submitted = or_(submitted, AuthorizationRequest.state == workflow.DRAFT)
    # Definitions and several states match most rows: through their index, the planner
    # (SQLite without statistics) would then sort every match. Unindexed, it walks the
    # (last_submitted_at, id) index in order and stops after one page.
    definitions = bindparam("definitions", params["definitions"], expanding=True)
    where = [submitted, unindexed(AuthorizationRequest.definition_id).in_(definitions)]
    if shape.states == "one":
        where.append(AuthorizationRequest.state == bindparam("state", params["state"]))
    elif shape.states == "many":
        states = bindparam("states", params["states"], expanding=True)
        where.append(unindexed(AuthorizationRequest.state).in_(states))
    else:
        where.append(false())
    if shape.forms == "none":
        where.append(false())
    elif shape.forms == "in":
        form_uids = bindparam("form_uids", params["form_uids"], expanding=True)
        where.append(AuthorizationRequest.form_uid.in_(form_uids))
    if shape.search:
        where.append(_search_condition(shape.search, params["search"]))
    if shape.by_deadline:
        where.append(AuthorizationRequest.decision_deadline.is_not(None))
    return where
