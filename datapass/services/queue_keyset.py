"""The queue's keyset: sort columns, ORDER BY, the condition past a cursor, cursors.

A cursor carries the last (or first) row's sort values; the next page is the rows beyond
it, whatever its depth. With « Brouillon » and a sort by submission date, plain drafts have
no date: NULL is then the smallest value (last when the newest come first).
"""

from __future__ import annotations

import base64
import json
from datetime import datetime

from sqlalchemy import Select, and_, or_, select, tuple_, union_all

from datapass import workflow
from datapass.models import AuthorizationRequest

# Sorts by a timestamp: (that column, id) is the keyset.
DATE_SORTS = ("recent", "ancien", "echeance")


def sort_columns(sort: str):
    """(columns, descending) of a sort: the keyset is the tuple of these columns."""
    if sort == "id":
        return (AuthorizationRequest.id,), True
    if sort == "etat":
        return (AuthorizationRequest.state, AuthorizationRequest.id), False
    if sort == "echeance":
        return (AuthorizationRequest.decision_deadline, AuthorizationRequest.id), False
    descending = sort != "ancien"
    return (AuthorizationRequest.last_submitted_at, AuthorizationRequest.id), descending


def ordering(sort: str, descending: bool, *, nullable: bool) -> list:
    """ORDER BY of a walk; ``nullable``: the first column may be NULL, the smallest value."""
    columns, _ = sort_columns(sort)
    ordering = [c.desc() if descending else c.asc() for c in columns]
    if nullable:  # as SQLite does by default; PostgreSQL is told
        ordering[0] = ordering[0].nulls_last() if descending else ordering[0].nulls_first()
    return ordering


def beyond(sort: str, cursor: list, less: bool, *, nullable: bool):
    """The keyset condition: rows after ``cursor`` in the walk's direction."""
    columns, _ = sort_columns(sort)
    if len(columns) == 1:
        return columns[0] < cursor[0] if less else columns[0] > cursor[0]
    key, value = tuple_(*columns), tuple_(*cursor)
    if not nullable:
        return key < value if less else key > value
    first, row_id = columns
    if cursor[0] is None:  # within the undated rows, by id; then (ascending) every dated one
        undated = and_(first.is_(None), row_id < cursor[1] if less else row_id > cursor[1])
        return undated if less else or_(undated, first.is_not(None))
    return or_(key < value, first.is_(None)) if less else key > value


def nullable_walk(query: Select, cursor: list | None, less: bool, limit) -> Select:
    """A page's ids for a sort by date whose rows may be undated (plain drafts: NULL, the
    smallest value): two index walks, each stopping after ``limit`` rows, merged and cut.

    In one walk ordered ``NULLS LAST`` (or ``FIRST``), PostgreSQL can use no index: its
    ``(last_submitted_at, id)`` index walked backwards puts NULLs first, so it sorted every
    matching request at each page. Dated rows walk that index; undated ones are drafts,
    walked by ``(state, id)``; a cursor in one part leaves the other one whole or empty."""
    first, row_id = AuthorizationRequest.last_submitted_at, AuthorizationRequest.id
    dated, undated = (
        [first.is_not(None)],
        [first.is_(None), AuthorizationRequest.state == workflow.DRAFT],
    )
    if cursor is not None and cursor[0] is None:  # within the undated rows
        undated.append(row_id < cursor[1] if less else row_id > cursor[1])
        dated = None if less else dated
    elif cursor is not None:
        key, value = tuple_(first, row_id), tuple_(*cursor)
        dated.append(key < value if less else key > value)
        undated = undated if less else None
    by_date = [first.desc(), row_id.desc()] if less else [first.asc(), row_id.asc()]
    arms = []
    for where, order in ((dated, by_date), (undated, by_date[1:])):
        if where is not None:
            part = query.add_columns(first).where(*where).order_by(*order).limit(limit).subquery()
            arms.append(select(part.c.id, part.c.last_submitted_at))
    walk = (union_all(*arms) if len(arms) > 1 else arms[0]).subquery("walk")
    when, number = walk.c.last_submitted_at, walk.c.id
    ordering = (
        [when.desc().nulls_last(), number.desc()]
        if less
        else [when.asc().nulls_first(), number.asc()]
    )
    return select(walk.c.id).order_by(*ordering).limit(limit)


def encode_cursor(values: list) -> str:
    raw = json.dumps([v.isoformat() if isinstance(v, datetime) else v for v in values])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, sort: str) -> list | None:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
    except (ValueError, TypeError):
        return None
    columns, _ = sort_columns(sort)
    if not isinstance(values, list) or len(values) != len(columns):
        return None
    try:
        if sort in DATE_SORTS:
            moment = None if values[0] is None else datetime.fromisoformat(values[0])
            return [moment, _sql_int(values[1])]
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


def cursor_of(row: AuthorizationRequest, sort: str) -> str:
    columns, _ = sort_columns(sort)
    return encode_cursor([getattr(row, column.key) for column in columns])
