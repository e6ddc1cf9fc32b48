"""The instruction queue's CSV export: the filtered list, streamed by keyset batches."""

from __future__ import annotations

from collections.abc import Iterator

from datapass.catalog import get_catalog
from datapass.extensions import db
from datapass.services import queue_keyset as keyset
from datapass.services.csv_files import csv_lines
from datapass.services.queue import QueueCriteria, base_query, plain_drafts_sort_nullable

CSV_HEADER = (
    "ID",
    "État",
    "Dernière soumission",
    "Demandeur",
    "Organisation",
    "SIRET",
    "Intitulé",
    "Démarche",
    "Éditeur",
)


def export_csv(criteria: QueueCriteria, *, batch: int = 500) -> Iterator[str]:
    """The filtered list as CSV lines (UTF-8 with BOM, « ; »), fetched by keyset batches."""
    return csv_lines(CSV_HEADER, _export_rows(criteria, batch))


def _export_rows(criteria: QueueCriteria, batch: int) -> Iterator[tuple]:
    catalog = get_catalog()
    columns, descending = keyset.sort_columns(criteria.sort)
    nullable = plain_drafts_sort_nullable(criteria)
    cursor = None
    while True:
        query = base_query(criteria)
        if cursor is not None:
            query = query.where(keyset.beyond(criteria.sort, cursor, descending, nullable=nullable))
        query = query.order_by(*keyset.ordering(criteria.sort, descending, nullable=nullable))
        rows = db.session.scalars(query.limit(batch)).all()
        for authorization_request in rows:
            catalog_form = catalog.form(authorization_request.form_uid)
            submitted = authorization_request.last_submitted_at
            yield (
                authorization_request.public_reference,
                authorization_request.state_label,
                submitted.strftime("%d/%m/%Y %H:%M") if submitted else "",
                authorization_request.applicant.email,
                authorization_request.organization.display_name,
                authorization_request.organization.siret,
                authorization_request.intitule or "",
                catalog_form.name if catalog_form else authorization_request.form_uid,
                catalog_form.editor.name if catalog_form and catalog_form.editor else "",
            )
        if len(rows) < batch:
            return
        cursor = [getattr(rows[-1], column.key) for column in columns]
        db.session.expunge_all()
