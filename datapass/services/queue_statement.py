"""A SELECT compiled once, executed on the driver with each page's values.

SQLAlchemy's ``connection.execute(select, params)`` redoes per execution what a queue page
never changes: it looks the compiled form up, renders the expanding ``IN (…)`` lists again
into a new SQL string, runs every bound value and every result value through its type's
processors (four dates per line: two Python calls each). A ``CompiledSelect`` keeps the SQL
string and the parameters' order once per dialect and length of its lists, then executes
with ``connection.exec_driver_sql`` (the engine's events and the statement counter still
see it), converting only the columns that need it, the dates by one call each.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Boolean, Connection, Select
from sqlalchemy.engine import Dialect

from datapass.models.base import UTCDateTime

_fromisoformat, _combine = datetime.fromisoformat, datetime.combine
# Layouts kept per compiled statement (one per combination of its lists' lengths).
MAX_LAYOUTS = 256


# The dates' converters, called for values other than None. ``replace(tzinfo=UTC)`` costs
# some 0.8 µs a call (its keywords); parsing the offset or combining costs a fifth of that.
def _sqlite_utc(value: str) -> datetime:
    """SQLite's text date (SQLAlchemy reads it by ``fromisoformat``) as an aware UTC one."""
    return _fromisoformat(value + "+00:00")


def _naive_utc(value: datetime) -> datetime:
    return _combine(value.date(), value.time(), UTC)


class _Probe:
    """A parameter's value while the SQL is laid out: where each value goes."""

    __slots__ = ("index", "name")

    def __init__(self, name: str, index: int | None) -> None:
        self.name, self.index = name, index


def _probe(params: dict[str, Any]) -> dict[str, Any]:
    return {
        name: [_Probe(name, i) for i in range(len(value))]
        if isinstance(value, list | tuple)
        else _Probe(name, None)
        for name, value in params.items()
    }


def _getter(value, processor: Callable | None) -> Callable[[dict], Any]:
    """How a bound value is read from a page's parameters (a constant of the statement:
    processed once)."""
    if not isinstance(value, _Probe):
        constant = processor(value) if processor else value
        return lambda params: constant
    name, index = value.name, value.index
    if index is None:
        if processor:
            return lambda params: processor(params[name])
        return lambda params: params[name]
    if processor:
        return lambda params: processor(params[name][index])
    return lambda params: params[name][index]


def result_converter(type_, dialect: Dialect) -> Callable | None:
    """What turns a column's driver value into the application's (None: as it is). Booleans
    stay as the driver gives them (0 or 1 on SQLite): the caller reads them with ``bool``."""
    if isinstance(type_, Boolean):
        return None
    if isinstance(type_, UTCDateTime):
        # The date type's own processor, then UTCDateTime's: fused into one call.
        impl = type_.impl_instance.dialect_impl(dialect).result_processor(dialect, None)
        if impl is None:
            return _naive_utc
        if dialect.name == "sqlite":
            return _sqlite_utc
    return type_.dialect_impl(dialect).result_processor(dialect, None)


class CompiledSelect:
    """``statement`` compiled once for ``dialect``; ``rows(connection, params)`` executes it
    with ``params`` (the values of its named parameters, lists for expanding ones)."""

    def __init__(self, statement: Select, dialect: Dialect) -> None:
        self.dialect = dialect
        self.compiled = statement.compile(dialect=dialect)
        self.converters = [
            (index, converter)
            for index, column in enumerate(statement.selected_columns)
            if (converter := result_converter(column.type, dialect)) is not None
        ]
        self._layouts: dict[tuple, tuple[str, Callable[[dict], Any]]] = {}

    def _layout(self, params: dict[str, Any]) -> tuple[str, Callable[[dict], Any]]:
        """The SQL string and the parameters' builder for the lengths of ``params``' lists."""
        key = tuple(
            (name, len(value) if isinstance(value, list | tuple) else -1)
            for name, value in params.items()
        )
        layout = self._layouts.get(key)
        if layout is None:
            if len(self._layouts) >= MAX_LAYOUTS:
                self._layouts.clear()
            layout = self._layouts[key] = self._lay_out(params)
        return layout

    def _lay_out(self, params: dict[str, Any]) -> tuple[str, Callable[[dict], Any]]:
        expanded = self.compiled.construct_expanded_state(_probe(params))
        dialect, binds = self.dialect, self.compiled.binds

        def processor(name: str):
            value = expanded.parameters[name]
            key = value.name if isinstance(value, _Probe) else name
            type_ = binds[key].type
            return type_.dialect_impl(dialect).bind_processor(dialect)

        names = list(expanded.parameters)
        getters = [
            _getter(expanded.parameters[name], processor(name))
            for name in (expanded.positiontup or names)
        ]
        if expanded.positiontup is not None:
            return expanded.statement, lambda values: tuple(get(values) for get in getters)
        pairs = list(zip(names, getters, strict=True))
        return expanded.statement, lambda values: {name: get(values) for name, get in pairs}

    def rows(self, connection: Connection, params: dict[str, Any]) -> Sequence[Sequence[Any]]:
        sql, build = self._layout(params)
        result = connection.exec_driver_sql(sql, build(params))
        rows = result.cursor.fetchall()
        result.close()
        converters = self.converters
        if not converters or not rows:
            return rows
        converted = []
        for row in rows:
            values = list(row)
            for index, convert in converters:
                value = values[index]
                if value is not None:  # None stays None, whatever the type
                    values[index] = convert(value)
            converted.append(values)
        return converted
