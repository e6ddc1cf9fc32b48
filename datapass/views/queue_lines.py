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


def _forms(catalog: Catalog) -> dict[str, tuple[str, str]]:
    return {
        uid: (form.name, form.editor.name if form.editor else "")
        for uid, form in catalog.forms.items()
    }


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
