"""The RGAA 4.1 self-assessment (``datapass/data/rgaa.yml``) and what /accessibilite says of it.

The audit is data: each of the 106 criteria has a result (C, NC, NA and why) on every page of
the sample. The conformity rate follows the RGAA method: over the sample, a criterion is
*non conforme* when it fails on at least one page, *non applicable* when it applies to no
page, *conforme* otherwise; the rate is conform criteria / applicable criteria.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

AUDIT_PATH = Path(__file__).resolve().parents[1] / "data" / "rgaa.yml"
CONFORM, NON_CONFORM, NOT_APPLICABLE = "C", "NC", "NA"
STATUSES = (CONFORM, NON_CONFORM, NOT_APPLICABLE)
CRITERIA_COUNT = 106  # RGAA 4.1
# The declared state (arrêté du 20 septembre 2019): totally at 100 %, partially from 50 %.
FULLY, PARTIALLY, NOT_CONFORM = "totalement conforme", "partiellement conforme", "non conforme"


@dataclass(frozen=True)
class Page:
    id: str
    title: str
    url: str


@dataclass(frozen=True)
class Result:
    status: str
    why: str


@dataclass(frozen=True)
class Criterion:
    number: str
    theme: str
    title: str
    results: dict[str, Result]  # page id → result, every page of the sample

    @property
    def status(self) -> str:
        """Over the sample: NC on any page, else C on any page, else NA."""
        statuses = {result.status for result in self.results.values()}
        if NON_CONFORM in statuses:
            return NON_CONFORM
        return CONFORM if CONFORM in statuses else NOT_APPLICABLE

    def failures(self) -> list[tuple[str, Result]]:
        """(page id, result) of the pages where it is not met."""
        return [(page, r) for page, r in self.results.items() if r.status == NON_CONFORM]

    def failures_by_reason(self) -> list[tuple[str, list[str]]]:
        """(why, page ids) of the pages where it is not met, one entry per reason."""
        reasons: dict[str, list[str]] = {}
        for page, result in self.failures():
            reasons.setdefault(result.why, []).append(page)
        return list(reasons.items())


@dataclass(frozen=True)
class Audit:
    """The self-assessment: its sample of pages, the 106 criteria, what the page lists."""

    date: date
    reference: str
    auditor: str
    pages: tuple[Page, ...]
    criteria: tuple[Criterion, ...]
    # Listed as they are on the declaration page.
    tools: tuple[str, ...] = ()
    technologies: tuple[str, ...] = ()
    exemptions: tuple[str, ...] = ()
    derogations: tuple[str, ...] = ()

    def count(self, status: str) -> int:
        return sum(1 for criterion in self.criteria if criterion.status == status)

    @property
    def rate(self) -> float:
        """Conform criteria / applicable criteria, in percent (RGAA method)."""
        conform, failed = self.count(CONFORM), self.count(NON_CONFORM)
        return 100.0 * conform / (conform + failed) if conform + failed else 100.0

    @property
    def rate_label(self) -> str:
        """The rate as declared, e.g. « 98,1 » (rounded down: never above the truth)."""
        return f"{math.floor(self.rate * 10) / 10:.1f}".replace(".", ",")

    @property
    def state(self) -> str:
        if self.count(NON_CONFORM) == 0:
            return FULLY
        return PARTIALLY if self.rate >= 50 else NOT_CONFORM

    def non_conform(self) -> list[Criterion]:
        return [criterion for criterion in self.criteria if criterion.status == NON_CONFORM]

    def page_title(self, page_id: str) -> str:
        return next(page.title for page in self.pages if page.id == page_id)


def _result(raw: Any, where: str) -> Result:
    if not isinstance(raw, dict) or raw.get("status") not in STATUSES or not raw.get("why"):
        raise ValueError(f"{where}: a result needs a status ({', '.join(STATUSES)}) and a why")
    return Result(status=raw["status"], why=str(raw["why"]))


def parse_audit(data: dict) -> Audit:
    """The audit of the YAML's data; a criterion without a result on some page is refused."""
    pages = tuple(Page(**page) for page in data["pages"])
    page_ids = [page.id for page in pages]
    criteria = []
    for raw in data["criteria"]:
        number = str(raw["number"])
        default = raw.get("all")
        overrides = raw.get("pages") or {}
        unknown = set(overrides) - set(page_ids)
        if unknown:
            raise ValueError(f"criterion {number}: unknown pages {sorted(unknown)}")
        results = {}
        for page_id in page_ids:
            chosen = overrides.get(page_id, default)
            if chosen is None:
                raise ValueError(f"criterion {number}: no result for the page {page_id}")
            results[page_id] = _result(chosen, f"criterion {number}, page {page_id}")
        criteria.append(Criterion(number, raw["theme"], raw["title"], results))
    for key in ("exemptions", "derogations"):
        if not all(isinstance(item, str) for item in data.get(key) or ()):
            raise ValueError(f"{key}: a list of texts (quote a text holding « : »)")
    audit = data["audit"]
    return Audit(
        date=audit["date"],
        reference=audit["reference"],
        auditor=audit["auditor"],
        tools=tuple(audit["tools"]),
        technologies=tuple(audit["technologies"]),
        pages=pages,
        criteria=tuple(criteria),
        exemptions=tuple(data.get("exemptions") or ()),
        derogations=tuple(data.get("derogations") or ()),
    )


@lru_cache(maxsize=1)
def load_audit(path: Path = AUDIT_PATH) -> Audit:
    """The repository's self-assessment (read once per process: it is read-only data)."""
    with path.open(encoding="utf-8") as stream:
        return parse_audit(yaml.safe_load(stream))


@lru_cache(maxsize=1)
def declared_state() -> str:
    """The footer's « Accessibilité : … » of every page, computed once per process from the
    read-only self-assessment (its 106 criteria over the sample are not counted per page)."""
    return load_audit().state
