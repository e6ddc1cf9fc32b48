"""Open and accountable: the public statistics, the register of habilitations, their public
pages (with the receipt's fingerprint check) and the FAQ. Public: no sign-in, no personal
data (docs/open-data.md)."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, abort, render_template, request, stream_with_context

from datapass.catalog import get_catalog
from datapass.extensions import db
from datapass.forms.open_data import (
    FingerprintForm,
    RegisterSearchForm,
    StatisticsFiltersForm,
    definition_choices,
)
from datapass.models import Authorization
from datapass.services import register, statistics, statistics_tables
from datapass.services.csv_files import csv_lines

bp = Blueprint("open_data", __name__)


def _csv(lines, filename: str) -> Response:
    return Response(
        stream_with_context(lines),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _statistics():
    """The filters (invalid ones fall back to their default, with their message) and the
    statistics they select."""
    catalog = get_catalog()
    definitions = [d for d in catalog.definitions.values() if d.public]
    forms = [f for f in catalog.forms.values() if f.public]
    filters_form = StatisticsFiltersForm(request.args).configure(definitions, forms)
    filters = filters_form.filters()
    stats = statistics.get(filters)
    return filters_form, filters, stats


@bp.get("/stats")
def stats():
    filters_form, filters, computed = _statistics()
    return render_template(
        "open_data/stats.html",
        filters_form=filters_form,
        filters=filters,
        stats=computed,
        tables=statistics_tables.build(computed),
        args={
            "definition": filters.definition_id or "",
            "demarche": filters.form_uid or "",
            "periode": filters.period,
        },
    )


@bp.get("/stats/<key>.csv")
def stats_csv(key: str):
    _filters_form, _filters, computed = _statistics()
    table = next((t for t in statistics_tables.build(computed) if t.key == key), None)
    if table is None:
        abort(404)
    return _csv(
        csv_lines(table.headers, table.csv_rows()),
        f"statistiques-{table.key}-{date.today():%Y%m%d}.csv",
    )


def _register_search():
    catalog = get_catalog()
    search_form = RegisterSearchForm(request.args)
    search_form.definition.choices = definition_choices(
        d for d in catalog.definitions.values() if d.public
    )
    valid = search_form.validate()
    if search_form.definition.errors:
        search_form.definition.errors = ["Ce type d’habilitation n’existe pas."]
    search = (search_form.q.data or "") if valid or not search_form.q.errors else ""
    definition_id = None if search_form.definition.errors else search_form.definition.data or None
    return search_form, search, definition_id


@bp.get("/habilitations")
def register_page():
    search_form, search, definition_id = _register_search()
    after = request.args.get("apres", type=int)
    entries, following = register.page(search, definition_id, after=after)
    return render_template(
        "open_data/register.html",
        search_form=search_form,
        entries=entries,
        following=following,
        after=after,
        args={"q": search, "definition": definition_id or ""},
    )


@bp.get("/habilitations.csv")
def register_csv():
    _search_form, search, definition_id = _register_search()
    return _csv(
        register.export_csv(search, definition_id),
        f"registre-habilitations-{date.today():%Y%m%d}.csv",
    )


@bp.get("/habilitations/H<int:authorization_id>/public")
def public_authorization(authorization_id: int):
    entry = register.find(authorization_id)
    if entry is None:
        abort(404)
    fingerprint_form = FingerprintForm(request.args)
    verdict = None
    if "empreinte" in request.args and fingerprint_form.validate():
        authorization = db.session.get(Authorization, authorization_id)
        given = fingerprint_form.empreinte.data.strip().lower()
        verdict = given == register.fingerprint(authorization)
    return render_template(
        "open_data/authorization.html",
        entry=entry,
        fingerprint_form=fingerprint_form,
        verdict=verdict,
    )


@bp.get("/faq")
def faq():
    return render_template("open_data/faq.html")
