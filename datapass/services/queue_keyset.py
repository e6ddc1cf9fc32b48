"""The queue's keyset: sort columns, ORDER BY, the condition past a cursor, cursors.

A cursor carries the last (or first) row's sort values; the next page is the rows beyond
it, whatever its depth. With « Brouillon » and a sort by submission date, plain drafts have
no date: NULL is then the smallest value (last when the newest come first).
"""

from __future__ import annotations

import base64
import json
from datetime import datetime

from sqlalchemy import and_, or_, tuple_

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
