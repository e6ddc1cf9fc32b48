"""A compiled-SQL cache for a statement built once per process, looked up by identity.

SQLAlchemy finds a statement's compiled SQL in the engine's cache under a key made of the
dialect and the statement's *cache key*: a deep tuple describing every column, join and
condition. A statement built once (``functools.cache``) keeps its cache key, but the
lookup hashes that tuple again at every execution (tuples do not keep their hash): 7 µs for
the request page's row, 16 µs for its ``UNION ALL`` of seven lists, each page.

``CompiledOnce(statement)`` executes the statement with its own cache (the documented
``compiled_cache`` execution option, which SQLAlchemy takes from a connection or an
execution, not from a statement): the key SQLAlchemy builds holds the very same
cache-key tuple at each execution, so the entry is found by comparing identities, then
equal small values; a key that is not the same object (another dialect, a statement built
anew) misses and is compiled, as with the engine's cache. Nothing else changes: the same
compiled SQL, parameters, result processing and events (the query counter sees every
statement).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection, CursorResult

# Entries kept per statement: one per dialect in practice (tests may build several engines).
MAX_ENTRIES = 4


class IdentityCompiledCache:
    """The ``compiled_cache`` of one statement: a few (key, compiled) entries."""

    __slots__ = ("_entries",)

    def __init__(self) -> None:
        self._entries: tuple[tuple[tuple, Any], ...] = ()

    def get(self, key: tuple, default: Any = None) -> Any:
        for entry_key, compiled in self._entries:
            if _same(entry_key, key):
                return compiled
        return default

    def __setitem__(self, key: tuple, compiled: Any) -> None:
        # A new tuple, assigned at once: another thread reads the old or the new entries.
        self._entries = ((key, compiled), *self._entries)[:MAX_ENTRIES]

    def __len__(self) -> int:
        return len(self._entries)


def _same(kept: tuple, key: tuple) -> bool:
    """The same dialect and the same cache-key tuple (identities), the same small rest."""
    return (
        len(kept) == len(key)
        and all(a is b for a, b in zip(kept[:2], key[:2], strict=True))
        and kept[2:] == key[2:]
    )


class CompiledOnce:
    """A statement built once per process, executed with its own compiled cache."""

    __slots__ = ("_options", "statement")

    def __init__(self, statement) -> None:
        self.statement = statement
        self._options = {"compiled_cache": IdentityCompiledCache()}

    def execute(self, connection: Connection, parameters: dict[str, Any]) -> CursorResult:
        return connection.execute(self.statement, parameters, execution_options=self._options)
