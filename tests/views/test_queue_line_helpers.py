"""The queue lines' helpers kept by value: Paris dates by UTC day and hour, date texts,
deadline badges by due date, the escaping in C, the criteria's query string."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta, timezone
from types import SimpleNamespace

from flask import url_for
from markupsafe import escape

from datapass import workflow
from datapass.services.queue import QueueRow
from datapass.views import instruction, layout, queue_lines
from datapass.views.template_helpers import date_fr, html_text, paris, paris_date


def test_paris_dates_kept_by_utc_hour_match_the_time_zone_conversion():
    # Every hour around both changes of 2026 (29 March, 25 October) and two new years.
    starts = (
        datetime(2026, 3, 28, tzinfo=UTC),
        datetime(2026, 10, 24, tzinfo=UTC),
        datetime(2026, 12, 31, tzinfo=UTC),
        datetime(1911, 12, 31, tzinfo=UTC),
    )
    for start in starts:
        for hours in range(72):
            for minutes in (0, 59):
                moment = start + timedelta(hours=hours, minutes=minutes)
                assert paris_date(moment) == paris(moment).date(), moment
                # Asked again (from the kept dates): the same.
                assert paris_date(moment) == paris(moment).date(), moment
    # Other offsets and naive moments (UTC in this application) are converted as before.
    other = datetime(2026, 6, 30, 23, 30, tzinfo=timezone(timedelta(hours=-5)))
    assert paris_date(other) == date(2026, 7, 1)
    assert paris_date(datetime(2026, 6, 30, 22, 30)) == date(2026, 7, 1)
    assert date_fr(datetime(2026, 2, 28, 23, 30, tzinfo=UTC)) == "1er mars 2026"
    assert date_fr(date(2026, 3, 1)) == "1er mars 2026"
    assert date_fr(date(2026, 3, 2)) == "2 mars 2026"


def test_html_text_escapes_as_markupsafe_does():
    for value in ("a&b<c>d'e\"f", "", "é€ & <x>", "plain"):
        assert html_text(value) == str(escape(value))
        assert type(html_text(value)) is str


def test_deadline_badges_kept_by_due_date_follow_today():
    deadline = datetime(2026, 12, 10, 12, tzinfo=UTC)
    row = SimpleNamespace(state=workflow.SUBMITTED, decision_deadline=deadline)
    soon = queue_lines._deadline(row, date(2026, 12, 1))
    assert ">J-9</p>" in soon and "fr-badge--warning" in soon
    assert "jusqu’au 10 décembre 2026" in soon
    later = queue_lines._deadline(row, date(2026, 12, 12))
    assert ">Délai dépassé de 2 jours</p>" in later and "fr-badge--error" in later
    assert queue_lines._deadline(row, date(2026, 12, 1)) == soon
    assert queue_lines._deadline(SimpleNamespace(state=workflow.VALIDATED), date.today()) == ""


def test_the_criteria_query_string_is_url_for_s(app):
    criteria = {
        "etat": [workflow.SUBMITTED, workflow.CHANGES_REQUESTED],
        "tri": "recent",
        "definition": ["api_particulier"],
        "q": "a:b/ c'&é€!$()*,;?@#% +=",
    }
    with app.test_request_context("/"):
        for args in (criteria, {"etat": [], "tri": "id"}, {"tri": "etat", "q": "D12"}):
            expected = url_for("instruction.queue", **args).partition("?")[2]
            assert instruction._query_string(args) == expected


def _reference_line(row: QueueRow, cells: dict, today: date) -> str:
    """A line as queue_lines rendered it before its fast path: a call per value."""
    path = layout.path_of("instruction.show", "request_id")
    form_cell = cells.get(row.form_uid) or html_text(row.form_uid)
    return f"""
        <tr>
          <td><a href="{path(row.id)}">{row.public_reference}</a></td>
          <td>
            {queue_lines._badges(row, layout.badges())}
            {queue_lines._deadline(row, today)}
          </td>
          <td>{date_fr(row.last_submitted_at)}</td>
          <td>{html_text(row.applicant_email)}<br><span class="fr-text--sm">{html_text(row.organization_display_name)}</span></td>
          <td>{html_text(row.intitule or "—")}</td>
          <td>{form_cell}</td>
        </tr>
        """  # noqa: E501


def test_the_lines_fast_path_is_the_reference_line_for_every_marker(app):
    """The lines whose badge is their state's alone are read without a call: every state,
    marker, deadline and unknown form gives the reference's bytes."""
    now = datetime.now(UTC)
    catalog = app.extensions["catalog"]
    form_uid = next(iter(catalog.forms))
    rows = []
    for index, (state, reopened, unread, answered, unverified, form, deadline) in enumerate(
        itertools.product(
            workflow.STATE_LABELS,
            (None, now),
            (False, True),
            (False, True),
            (False, True),
            (form_uid, "inconnue<&>"),
            (None, now + timedelta(days=3), now - timedelta(days=40)),
        )
    ):
        rows.append(
            QueueRow(
                id=index + 1,
                state=state,
                last_submitted_at=now - timedelta(hours=index),
                decision_deadline=deadline,
                last_validated_at=now - timedelta(days=400) if index % 2 else None,
                reopened_at=reopened,
                intitule=None if index % 3 else f"Projet <{index}> & « co »",
                form_uid=form,
                applicant_email=f"agent{index}@ville.fr",
                organization_name=None if index % 5 else "Ville d’Yerres",
                organization_siret="21910691500017",
                unread_messages=unread,
                answered_changes=answered,
                unverified_membership=unverified,
            )
        )
    with app.test_request_context("/"):
        today = paris_date(now)
        cells = queue_lines._form_cells(catalog)
        expected = "".join(_reference_line(row, cells, today) for row in rows)
        assert queue_lines.queue_lines(rows, catalog) == expected
    assert "Mise à jour" in expected and "J-3" in expected and "inconnue&lt;&amp;&gt;" in expected
