"""The instruction queue's lines as the page shows them, prepared in one pass.

A queue page has 25 lines of some thirty values each: looked up, formatted and escaped one by
one by the template, they cost more than the query that found them. Here the lines are
rendered in one pass, one f-string per line (the only markup of the table kept out of
templates/instruction/queue.html, like the « Démarches » checkboxes below), each value of
the data escaped, the badges joined from the badges rendered once by the DSFR macro
(``views/layout.py``), the forms' cells rendered once per catalogue.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from markupsafe import Markup

from datapass import workflow
from datapass.catalog import Catalog
from datapass.services.queue import QUEUE_STATES, SORTS, QueueCriteria, QueueRow
from datapass.views import layout
from datapass.views.template_helpers import date_fr, deadline_label, html_text, paris_date

# The CRPA deadline badge's colour: overdue, due within this many days, later.
DEADLINE_WARNING_DAYS = 14


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


# The « Démarches » checkboxes (a few hundred options: escaping them on every page was a tenth
# of its cost), rendered with the filter's other fields (``filter_fields``) and kept.
_CHECKBOX = Markup(
    '<div class="fr-fieldset__element">\n'
    '<div class="fr-checkbox-group fr-checkbox-group--sm">\n'
    '<input type="checkbox" id="formulaire-{uid}" name="formulaire" value="{uid}"{checked}>\n'
    '<label class="fr-label" for="formulaire-{uid}">{label}</label>\n'
    "</div>\n</div>\n"
)


def form_checkboxes(catalog: Catalog, definitions: list[str], chosen) -> Markup:
    """The filter's « Démarches » checkboxes (``form_options``), ``chosen`` ones checked."""
    checked = Markup(" checked")
    return Markup("").join(
        _CHECKBOX.format(uid=uid, label=label, checked=checked if uid in chosen else "")
        for uid, label in form_options(catalog, definitions)
    )


FILTER = "instruction/_queue_filter.html"


def filter_fields(catalog: Catalog, definitions: list[str], criteria: QueueCriteria) -> Markup:
    """The filter's fields but the searched text (templates/instruction/_queue_filter.html),
    rendered once per catalogue, visible definitions and criteria (the text aside), kept."""
    states, chosen = frozenset(criteria.states), frozenset(criteria.definitions)
    form_uids = frozenset(criteria.form_uids)
    key = (FILTER, tuple(definitions), criteria.sort, criteria.editor, states, chosen, form_uids)
    return layout.kept(
        key,
        lambda: layout.macro(FILTER, "filter_fields")(
            tuple(SORTS.items()),
            criteria.sort,
            tuple((editor.id, editor.name) for editor in catalog.editors.values()),
            criteria.editor,
            tuple((state, workflow.STATE_LABELS[state]) for state in QUEUE_STATES),
            states,
            form_checkboxes(catalog, definitions, form_uids),
            tuple((d, catalog.definitions[d].name) for d in definitions),
            chosen,
        ),
    )


class QueueFrame:
    """What the queue page shows around its filter and lines for a set of roles and visible
    definitions: the instruction's tabs (``layout.instruction_tabs``), the queue's and the
    export's paths."""

    __slots__ = ("export_path", "path", "tabs")

    def __init__(self, definitions: tuple[str, ...]) -> None:
        self.tabs = layout.instruction_tabs(definitions)
        self.path = layout.path_for("instruction.queue")
        self.export_path = layout.path_for("instruction.export")


def queue_frame(user, definitions: list[str]) -> QueueFrame:
    """The queue page's ``QueueFrame`` (its tabs mark the queue's as current: for the queue
    page only), kept per set of roles and visible definitions (``layout.kept_value``)."""
    shown = tuple(definitions)
    return layout.kept_value(
        ("queue-frame", layout.user_roles(user), shown), lambda: QueueFrame(shown)
    )


def _badges(row: QueueRow, shown: dict) -> str:
    parts = [shown["request"][row.state]]
    if row.is_reopening:
        parts.append(shown["reopening"])
    if row.unread_messages:
        parts.append(shown["unread_messages"])
    if row.answered_changes:
        parts.append(shown["answered_changes"])
    if row.unverified_membership:
        parts.append(shown["unverified_membership"])
    return " ".join(parts)  # Markup already


def _deadline(row: QueueRow, today: date) -> str:
    """The CRPA deadline badge of a submitted request (markup), else ""."""
    if row.state != workflow.SUBMITTED or row.decision_deadline is None:
        return ""
    due = paris_date(row.decision_deadline)
    key = (due, today)
    badge = _DEADLINE_BADGES.get(key)
    if badge is None:
        if len(_DEADLINE_BADGES) >= _MAX_DEADLINE_BADGES:
            _DEADLINE_BADGES.clear()
        badge = _DEADLINE_BADGES[key] = _deadline_badge(due, today)
    return badge


# The deadline badges by (due date, today): the same few hundred dates from page to page.
_DEADLINE_BADGES: dict[tuple[date, date], str] = {}
_MAX_DEADLINE_BADGES = 4096


def _deadline_badge(due: date, today: date) -> str:
    days_left = (due - today).days
    kind = (
        " fr-badge--error"
        if days_left < 0
        else " fr-badge--warning"
        if days_left <= DEADLINE_WARNING_DAYS
        else ""
    )
    return (
        f'<p class="fr-badge fr-badge--sm fr-badge--no-icon{kind}" title="Délai de décision '
        f'(CRPA) jusqu’au {date_fr(due)}">{html_text(deadline_label(days_left))}</p>'
    )


def _form_cells(catalog: Catalog) -> dict[str, str]:
    """The « Démarche » cell of each form of the catalogue: its name and editor, escaped."""
    kept = _FORM_CELLS.get(id(catalog))
    if kept is None or kept[0] is not catalog:
        cells = {
            uid: f'{html_text(name)}<br><span class="fr-text--sm">{html_text(editor)}</span>'
            if editor
            else html_text(name)
            for uid, (name, editor) in _forms(catalog).items()
        }
        kept = _FORM_CELLS[id(catalog)] = (catalog, cells)
    return kept[1]


_FORM_CELLS: dict[int, tuple[Catalog, dict[str, str]]] = {}


def queue_lines(rows: list[QueueRow], catalog: Catalog) -> Markup:
    """The table's lines (``<tr>``…), in the markup the template had: one f-string per line,
    each value of the data escaped (``html_text``), the badges and form cells rendered once."""
    shown = layout.badges()
    path = layout.path_of("instruction.show", "request_id")
    cells = _form_cells(catalog)
    today = paris_date(datetime.now(UTC))
    html = []
    for row in rows:
        form_cell = cells.get(row.form_uid)
        if form_cell is None:
            form_cell = html_text(row.form_uid)
        email = html_text(row.applicant_email)
        organization = html_text(row.organization_display_name)
        html.append(
            f"""
        <tr>
          <td><a href="{path(row.id)}">{row.public_reference}</a></td>
          <td>
            {_badges(row, shown)}
            {_deadline(row, today)}
          </td>
          <td>{date_fr(row.last_submitted_at)}</td>
          <td>{email}<br><span class="fr-text--sm">{organization}</span></td>
          <td>{html_text(row.intitule or "—")}</td>
          <td>{form_cell}</td>
        </tr>
        """
        )
    return Markup("".join(html))  # noqa: S704 (every value of the data through html_text)
