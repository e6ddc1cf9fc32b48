"""Public statistics (``/stats``), computed from the timeline in three queries, cached.

- **Counts** per month and per démarche: the requests submitted (distinct requests with a
  ``submit`` event that month), validated (``approve``) and refused (``refuse``) — one
  grouped query.
- **Durations**, per request: from its first submission to its first instruction (the first
  ``request_changes``, ``approve``, ``refuse`` or instructor's message) and to its first
  decision (``approve`` or ``refuse``) — one grouped query returning one row per request
  submitted in the period. The median and the 80th percentile are computed in Python from
  these rows: SQLite has no ``percentile_cont``, and one query of per-request durations
  keeps both engines on the same code (a few thousand short rows a year, then cached).
- **Backlog**: the requests awaiting the instructors (submitted) or the applicant (changes
  requested) now, per démarche — one grouped query.

The result is kept ``STATS_CACHE_SECONDS`` (300 by default) per set of filters, in the
process: each instance computes its own, nothing another instance needs. The same numbers
give the « Délai moyen de traitement constaté » of the introduction and choice pages and the
estimate of the acknowledgement email (``decision_estimate``).
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from statistics import fmean, median

from flask import current_app
from sqlalchemy import case, distinct, func, select, type_coerce

from datapass import workflow
from datapass.extensions import db
from datapass.models import AuthorizationRequest, AuthorizationRequestEvent
from datapass.models.base import UTCDateTime, utcnow

SUBMIT = "submit"
DECISIONS = ("approve", "refuse")
INSTRUCTIONS = ("request_changes", "approve", "refuse", "instructor_message")
COUNTED = {"submit": "submitted", "approve": "validated", "refuse": "refused"}
BACKLOG_STATES = (workflow.SUBMITTED, workflow.CHANGES_REQUESTED)
# Periods offered by the filter (months back from now; 0: since the beginning).
PERIODS = {"3": 3, "6": 6, "12": 12, "24": 24, "tout": 0}
DEFAULT_PERIOD = "12"
# Below this many decided requests, no delay is announced (too few to mean anything).
MIN_SAMPLE = 5


@dataclass(frozen=True)
class Filters:
    definition_id: str | None = None
    form_uid: str | None = None
    period: str = DEFAULT_PERIOD

    def since(self, now: datetime) -> datetime | None:
        months = PERIODS[self.period]
        if not months:
            return None
        month_index = now.year * 12 + now.month - 1 - (months - 1)
        return now.replace(
            year=month_index // 12,
            month=month_index % 12 + 1,
            day=1,
            hour=0,
            minute=0,
            second=0,
            microsecond=0,
        )


@dataclass(frozen=True)
class Delay:
    """Days (decimal) of a set of requests: count, mean, median, 80th percentile."""

    count: int
    mean: float | None
    median: float | None
    p80: float | None

    @classmethod
    def of(cls, days: list[float]) -> Delay:
        if not days:
            return cls(0, None, None, None)
        return cls(len(days), fmean(days), median(days), percentile(days, 80))


@dataclass
class Statistics:
    filters: Filters
    months: list[str] = field(default_factory=list)
    # {month: {"submitted": n, "validated": n, "refused": n}}
    monthly: dict[str, dict[str, int]] = field(default_factory=dict)
    # {(definition_id, form_uid): {"submitted": n, "validated": n, "refused": n}}
    by_form: dict[tuple[str, str], dict[str, int]] = field(default_factory=dict)
    # {definition_id or (definition_id, form_uid): (to first instruction, to decision)}
    delays: dict[object, tuple[Delay, Delay]] = field(default_factory=dict)
    # {(definition_id, form_uid): {"submitted": n, "changes_requested": n}}
    backlog: dict[tuple[str, str], dict[str, int]] = field(default_factory=dict)

    @property
    def overall(self) -> tuple[Delay, Delay]:
        return self.delays.get(None, (Delay.of([]), Delay.of([])))


def percentile(values: list[float], rank: int) -> float:
    """The ``rank``-th percentile by the nearest-rank method (a value of the sample)."""
    ordered = sorted(values)
    index = max(math.ceil(rank / 100 * len(ordered)) - 1, 0)
    return ordered[index]


def _month(column):
    if db.engine.dialect.name == "postgresql":
        return func.to_char(column, "YYYY-MM")
    return func.strftime("%Y-%m", column)


def _scope(query, filters: Filters):
    if filters.definition_id:
        query = query.where(AuthorizationRequest.definition_id == filters.definition_id)
    if filters.form_uid:
        query = query.where(AuthorizationRequest.form_uid == filters.form_uid)
    return query


def _counts(stats: Statistics, since: datetime | None) -> None:
    event = AuthorizationRequestEvent
    month = _month(event.created_at).label("month")
    query = (
        select(
            month,
            AuthorizationRequest.definition_id,
            AuthorizationRequest.form_uid,
            event.name,
            func.count(distinct(event.authorization_request_id)),
        )
        .join(AuthorizationRequest, AuthorizationRequest.id == event.authorization_request_id)
        .where(event.name.in_(tuple(COUNTED)))
        .group_by(
            month, AuthorizationRequest.definition_id, AuthorizationRequest.form_uid, event.name
        )
    )
    if since is not None:
        query = query.where(event.created_at >= since)
    monthly: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(COUNTED.values(), 0))
    by_form: dict[tuple[str, str], dict[str, int]] = defaultdict(
        lambda: dict.fromkeys(COUNTED.values(), 0)
    )
    for month_value, definition_id, form_uid, name, count in db.session.execute(
        _scope(query, stats.filters)
    ):
        monthly[month_value][COUNTED[name]] += count
        by_form[(definition_id, form_uid)][COUNTED[name]] += count
    stats.months = sorted(monthly)
    stats.monthly = {month_value: monthly[month_value] for month_value in stats.months}
    stats.by_form = dict(sorted(by_form.items()))


def _first(names: tuple[str, ...]):
    event = AuthorizationRequestEvent
    return type_coerce(
        func.min(case((event.name.in_(names), event.created_at), else_=None)), UTCDateTime()
    )


def _delays(stats: Statistics, since: datetime | None) -> None:
    event = AuthorizationRequestEvent
    submitted = _first((SUBMIT,)).label("submitted")
    query = (
        select(
            AuthorizationRequest.definition_id,
            AuthorizationRequest.form_uid,
            submitted,
            _first(INSTRUCTIONS).label("instructed"),
            _first(DECISIONS).label("decided"),
        )
        .join(AuthorizationRequest, AuthorizationRequest.id == event.authorization_request_id)
        .where(event.name.in_((SUBMIT, *INSTRUCTIONS)))
        .group_by(
            event.authorization_request_id,
            AuthorizationRequest.definition_id,
            AuthorizationRequest.form_uid,
        )
    )
    if since is not None:
        query = query.having(_first((SUBMIT,)) >= since)
    samples: dict[object, tuple[list[float], list[float]]] = defaultdict(lambda: ([], []))
    for definition_id, form_uid, first_submitted, instructed, decided in db.session.execute(
        _scope(query, stats.filters)
    ):
        if first_submitted is None:
            continue
        for key in (None, definition_id, (definition_id, form_uid)):
            to_instruction, to_decision = samples[key]
            if instructed is not None and instructed >= first_submitted:
                to_instruction.append((instructed - first_submitted) / timedelta(days=1))
            if decided is not None and decided >= first_submitted:
                to_decision.append((decided - first_submitted) / timedelta(days=1))
    stats.delays = {
        key: (Delay.of(instruction), Delay.of(decision))
        for key, (instruction, decision) in samples.items()
    }


def _backlog(stats: Statistics) -> None:
    query = (
        select(
            AuthorizationRequest.definition_id,
            AuthorizationRequest.form_uid,
            AuthorizationRequest.state,
            func.count(AuthorizationRequest.id),
        )
        .where(AuthorizationRequest.state.in_(BACKLOG_STATES))
        .group_by(
            AuthorizationRequest.definition_id,
            AuthorizationRequest.form_uid,
            AuthorizationRequest.state,
        )
    )
    backlog: dict[tuple[str, str], dict[str, int]] = defaultdict(
        lambda: dict.fromkeys(BACKLOG_STATES, 0)
    )
    for definition_id, form_uid, state, count in db.session.execute(_scope(query, stats.filters)):
        backlog[(definition_id, form_uid)][state] += count
    stats.backlog = dict(sorted(backlog.items()))


def compute(filters: Filters, now: datetime | None = None) -> Statistics:
    """The statistics for ``filters``: three queries, whatever the number of requests."""
    since = filters.since(now or utcnow())
    stats = Statistics(filters)
    _counts(stats, since)
    _delays(stats, since)
    _backlog(stats)
    return stats


def _cache() -> dict:
    return current_app.extensions.setdefault("statistics_cache", {})


def clear_cache() -> None:
    _cache().clear()


def get(filters: Filters) -> Statistics:
    """``compute(filters)``, kept ``STATS_CACHE_SECONDS`` in this process."""
    lifetime = current_app.config["STATS_CACHE_SECONDS"]
    cache = _cache()
    found = cache.get(filters)
    if found is not None and found[0] > time.monotonic():
        return found[1]
    stats = compute(filters)
    if lifetime > 0:
        cache[filters] = (time.monotonic() + lifetime, stats)
    return stats


def decision_delay(definition_id: str) -> Delay:
    """Days from submission to decision of ``definition_id``'s requests, last 12 months."""
    stats = get(Filters())
    return stats.delays.get(definition_id, (Delay.of([]), Delay.of([])))[1]


def average_days(definition_id: str) -> int | None:
    """« Délai moyen de traitement constaté : N jours » (None under ``MIN_SAMPLE`` decisions)."""
    delay = decision_delay(definition_id)
    if delay.count < MIN_SAMPLE or delay.mean is None:
        return None
    return max(1, round(delay.mean))


def decision_estimate(definition_id: str) -> int | None:
    """The acknowledgement email's « 80 % des demandes ont reçu une réponse en N jours »."""
    delay = decision_delay(definition_id)
    if delay.count < MIN_SAMPLE or delay.p80 is None:
        return None
    return max(1, math.ceil(delay.p80))
