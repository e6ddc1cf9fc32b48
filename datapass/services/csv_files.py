"""CSV files for spreadsheets: UTF-8 with a BOM, « ; » separators, formulas neutralised."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator


def csv_safe(text: str) -> str:
    """Neutralise spreadsheet formulas (CSV injection): every cell goes through here."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def csv_lines(header: Iterable[str], rows: Iterable[Iterable[object]]) -> Iterator[str]:
    """The header then each row as CSV text (the BOM first), cell by cell made safe."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(header)
    yield "\ufeff" + flush()
    for row in rows:
        writer.writerow(csv_safe("" if cell is None else str(cell)) for cell in row)
        yield flush()
