"""The instruction queue's lines as the page shows them, prepared in one pass.

A queue page has 25 lines of some thirty values each: looked up, formatted and escaped one by
one by the template, they cost more than the query that found them. Here each line becomes a
tuple of display-ready values (the template unpacks it, without attribute look-ups), its
badges joined from the badges rendered once by the DSFR macro (``views/layout.py``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import NamedTuple

from markupsafe import Markup

from datapass import workflow
from datapass.catalog import Catalog
from datapass.services.queue import QueueRow
from datapass.views import layout
from datapass.views.template_helpers import date_fr, deadline_days, deadline_fr

# The CRPA deadline badge's colour: overdue, due within this many days, later.
DEADLINE_WARNING_DAYS = 14


class Deadline(NamedTuple):
    kind: str  # "error", "warning" or "" (the plain badge)
    date: str  # « 22 novembre 2026 »
    label: str  # « J-12 », « Délai dépassé de 3 jours »


class QueueLine(NamedTuple):
    path: str
    reference: str
    badges: Markup
    deadline: Deadline | None
    submitted: str
    applicant_email: str
    organization: str
    intitule: str
    form_name: str
    editor_name: str


# Per catalogue (which does not change while a process runs): the forms' names and editors,
# and the filter's « Démarches » options by set of definitions.
_FORMS: dict[int, tuple[Catalog, dict[str, tuple[str, str]]]] = {}
_FORM_OPTIONS: dict[tuple[int, tuple[str, ...]], tuple[Catalog, list[tuple[str, str]]]] = {}
_MAX_OPTION_SETS = 256


def _forms(catalog: Catalog) -> dict[str, tuple[str, str]]:
    kept = _FORMS.get(id(catalog))
    if kept is None or kept[0] is not catalog:
        forms = {
            uid: (form.name, form.editor.name if form.editor else "")
            for uid, form in catalog.forms.items()
        }
        kept = _FORMS[id(catalog)] = (catalog, forms)
    return kept[1]


def form_options(catalog: Catalog, definitions: list[str]) -> list[tuple[str, str]]:
    """(uid, label) of the forms of ``definitions``, the filter's checkboxes: computed once
    per catalogue and set of definitions; the page only marks the chosen ones."""
    key = (id(catalog), tuple(definitions))
    kept = _FORM_OPTIONS.get(key)
    if kept is None or kept[0] is not catalog:
        if len(_FORM_OPTIONS) >= _MAX_OPTION_SETS:
            _FORM_OPTIONS.clear()
        forms = _forms(catalog)
        options = [
            (uid, f"{name} ({editor})" if editor else name)
            for uid, (name, editor) in forms.items()
            if catalog.forms[uid].definition.id in definitions
        ]
        kept = _FORM_OPTIONS[key] = (catalog, options)
    return kept[1]


def _badges(row: QueueRow, shown: dict) -> Markup:
    parts = [shown["request"][row.state]]
    if row.is_reopening:
        parts.append(shown["reopening"])
    if row.unread_messages:
        parts.append(shown["unread_messages"])
    if row.answered_changes:
        parts.append(shown["answered_changes"])
    if row.unverified_membership:
        parts.append(shown["unverified_membership"])
    return Markup(" ").join(parts)


def _deadline(row: QueueRow, now: datetime) -> Deadline | None:
    if row.state != workflow.SUBMITTED or row.decision_deadline is None:
        return None
    days_left = deadline_days(row.decision_deadline, now)
    kind = "error" if days_left < 0 else "warning" if days_left <= DEADLINE_WARNING_DAYS else ""
    return Deadline(kind, date_fr(row.decision_deadline), deadline_fr(row.decision_deadline, now))


def queue_lines(rows: list[QueueRow], catalog: Catalog) -> list[QueueLine]:
    shown = layout.badges()
    path = layout.path_of("instruction.show", "request_id")
    forms = _forms(catalog)
    now = datetime.now(UTC)
    lines = []
    for row in rows:
        form_name, editor_name = forms.get(row.form_uid, (row.form_uid, ""))
        lines.append(
            QueueLine(
                path(row.id),
                row.public_reference,
                _badges(row, shown),
                _deadline(row, now),
                date_fr(row.last_submitted_at),
                row.applicant_email,
                row.organization_display_name,
                row.intitule or "—",
                form_name,
                editor_name,
            )
        )
    return lines
