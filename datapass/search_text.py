"""The text that free-text search reads: pure Python, no Flask (the migration uses it too).

A request's search document is its organisation's name, its intitulé, its applicant (email,
names) and every answer's value, one per line, **normalised**: lower case, accents and
ligatures removed (« Œuvre » → « oeuvre »), typographic apostrophes made plain. A query is
normalised the same way, then looked for as a substring (``LIKE '%…%'``), as the search
always did, but through an index: SQLite's FTS5 trigram tokenizer, PostgreSQL's pg_trgm.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Iterator
from typing import Any

LIGATURES = str.maketrans({"œ": "oe", "æ": "ae", "ß": "ss", "’": "'", "ʼ": "'", "‘": "'"})


def normalize(text: str) -> str:
    """Lower case, no accents, no ligatures: what both the index and a query go through."""
    decomposed = unicodedata.normalize("NFKD", text.lower().translate(LIGATURES))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _values(value: Any) -> Iterator[str]:
    """The answers' values (never their keys): strings and numbers, nested lists and dicts."""
    if isinstance(value, bool) or value is None:
        return
    if isinstance(value, str | int | float):
        yield str(value)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _values(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _values(item)


def document(
    *,
    organization_name: str | None,
    intitule: str | None,
    applicant: Iterable[str | None],
    data: dict | None,
) -> str:
    """The normalised search document of one request."""
    parts = [organization_name, intitule, *applicant, *_values(data or {})]
    return normalize("\n".join(part.replace("\n", " ") for part in parts if part))


def like_pattern(text: str) -> str:
    """``%text%`` for ``LIKE … ESCAPE '\\'``: the text's own ``%``, ``_`` and ``\\`` escaped."""
    return "%" + text.replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_") + "%"
