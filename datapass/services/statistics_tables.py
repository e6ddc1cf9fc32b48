"""The tables of ``/stats``: each feeds a chart, its data table and its CSV download."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from datapass import workflow
from datapass.catalog import get_catalog
from datapass.services.statistics import Delay, Statistics


@dataclass(frozen=True)
class Table:
    key: str
    title: str
    description: str
    headers: tuple[str, ...]
    rows: list[tuple]
    # The chart: the label column and the numeric columns drawn as series (values as numbers).
    series: tuple[int, ...]

    def chart(self) -> dict:
        labels = [_plain(row[0]) for row in self.rows]
        return {
            "x": [labels for _ in self.series],
            "y": [[_number(row[index]) for row in self.rows] for index in self.series],
            "name": [self.headers[index] for index in self.series],
        }

    def csv_rows(self) -> list[tuple]:
        return [tuple(_plain(cell) for cell in row) for row in self.rows]


def _number(value) -> float:
    return float(value) if isinstance(value, int | float) else 0.0


def _plain(value) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.strftime("%Y-%m")  # the months' rows: ISO in files and charts
    if isinstance(value, float):
        return f"{value:.1f}".replace(".", ",")
    return str(value)


def month_start(month: str) -> date:
    """``2026-01`` → the 1st of January 2026 (the page shows « janvier 2026 »)."""
    year, number = month.split("-")
    return date(int(year), int(number), 1)


def days(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _form_name(definition_id: str, form_uid: str) -> str:
    catalog_form = get_catalog().form(form_uid)
    return catalog_form.name if catalog_form else form_uid


def build(stats: Statistics) -> list[Table]:
    monthly = Table(
        "mois",
        "Demandes par mois",
        "Demandes déposées, validées et refusées chaque mois.",
        ("Mois", "Déposées", "Validées", "Refusées"),
        [
            (month_start(month), c["submitted"], c["validated"], c["refused"])
            for month, c in stats.monthly.items()
        ],
        (1, 2, 3),
    )
    by_form = Table(
        "demarches",
        "Demandes par démarche",
        "Demandes déposées, validées et refusées sur la période, par démarche.",
        ("Démarche", "Déposées", "Validées", "Refusées"),
        [
            (_form_name(*key), c["submitted"], c["validated"], c["refused"])
            for key, c in stats.by_form.items()
        ],
        (1, 2, 3),
    )
    delay_rows = []
    for key, (instruction, decision) in sorted(
        ((k, v) for k, v in stats.delays.items() if isinstance(k, tuple)), key=lambda i: i[0]
    ):
        delay_rows.append((_form_name(*key), *_delay_cells(instruction), *_delay_cells(decision)))
    overall_instruction, overall_decision = stats.overall
    if delay_rows:
        overall = (*_delay_cells(overall_instruction), *_delay_cells(overall_decision))
        delay_rows.append(("Toutes démarches", *overall))
    delays = Table(
        "delais",
        "Délais de traitement (en jours)",
        "Du dépôt de la demande à la première instruction et à la décision\u00a0: médiane et "
        "80ᵉ centile (80 % des demandes ont été traitées en ce délai ou moins).",
        (
            "Démarche",
            "Première instruction\u00a0: médiane",
            "Première instruction\u00a0: 80ᵉ centile",
            "Décision\u00a0: médiane",
            "Décision\u00a0: 80ᵉ centile",
            "Demandes décidées",
        ),
        [row[:3] + row[4:6] + (row[6],) for row in delay_rows],
        (1, 2, 3, 4),
    )
    backlog = Table(
        "en-attente",
        "Demandes en attente aujourd’hui",
        "Demandes en cours d’instruction et demandes en attente de modifications du demandeur.",
        (
            "Démarche",
            workflow.STATE_LABELS[workflow.SUBMITTED],
            workflow.STATE_LABELS[workflow.CHANGES_REQUESTED],
        ),
        [
            (
                _form_name(*key),
                counts[workflow.SUBMITTED],
                counts[workflow.CHANGES_REQUESTED],
            )
            for key, counts in stats.backlog.items()
        ],
        (1, 2),
    )
    return [monthly, by_form, delays, backlog]


def _delay_cells(delay: Delay) -> tuple:
    return (days(delay.median), days(delay.p80), delay.count)
