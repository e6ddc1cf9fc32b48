"""The public register of habilitations (``/habilitations``, docs/open-data.md).

What an habilitation grants, to which organisation, on which legal basis — never a person:
no contact's name, email or phone, no applicant, no instructor. The list is searchable and
paginated by keyset on the habilitation's id (newest first, one query per page); the CSV
and the monthly export walk the same keyset by batches. Superseded habilitations
(``obsolete``: a newer approval replaced them) leave the list but keep their public page.

The **fingerprint** of an habilitation is the SHA-256 of the canonical JSON of its frozen
snapshot (``snapshot``): the receipt prints it, the public page verifies it.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from flask import current_app
from sqlalchemy import func, or_, select

from datapass import blocks
from datapass.catalog import get_catalog
from datapass.extensions import db
from datapass.models import Authorization, Organization
from datapass.models.authorization import (
    AUTHORIZATION_ACTIVE,
    AUTHORIZATION_OBSOLETE,
    AUTHORIZATION_REVOKED,
)
from datapass.models.base import utcnow
from datapass.models.token import ApiToken
from datapass.services.csv_files import csv_lines

PAGE_SIZE = 50
EXPIRED = "expired"
STATE_LABELS = {
    AUTHORIZATION_ACTIVE: "Active",
    EXPIRED: "Expirée",
    AUTHORIZATION_REVOKED: "Révoquée",
    AUTHORIZATION_OBSOLETE: "Remplacée",
}
STATE_BADGES = {AUTHORIZATION_ACTIVE: "success", EXPIRED: "warning", AUTHORIZATION_REVOKED: "error"}
CSV_HEADER = (
    "habilitation",
    "demande",
    "organisation",
    "siret",
    "type_habilitation",
    "demarche",
    "donnees",
    "cadre_juridique",
    "cadre_juridique_url",
    "date_validation",
    "date_expiration",
    "etat",
)
MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
REFERENCE = re.compile(r"^[Hh](\d{1,9})$")


@dataclass(frozen=True)
class Entry:
    """One line of the register: public facts only."""

    id: int
    request_id: int
    organization: str
    siret: str
    definition: str
    form: str
    scopes: tuple[str, ...]
    legal_basis: str
    legal_url: str
    validated_at: datetime
    expires_at: datetime | None
    state: str

    @property
    def reference(self) -> str:
        return f"H{self.id}"

    @property
    def request_reference(self) -> str:
        return f"D{self.request_id}"

    @property
    def state_label(self) -> str:
        return STATE_LABELS[self.state]

    @property
    def state_badge(self) -> str | None:
        return STATE_BADGES.get(self.state)

    def csv_row(self) -> tuple:
        return (
            self.reference,
            self.request_reference,
            self.organization,
            self.siret,
            self.definition,
            self.form,
            " | ".join(self.scopes),
            self.legal_basis,
            self.legal_url,
            self.validated_at.date().isoformat(),
            self.expires_at.date().isoformat() if self.expires_at else "",
            self.state_label,
        )


def _expiry():
    return (
        select(func.max(ApiToken.expires_at))
        .where(ApiToken.authorization_id == Authorization.id, ApiToken.revoked_at.is_(None))
        .correlate(Authorization)
        .scalar_subquery()
    )


def _query():
    return select(Authorization, Organization, _expiry()).join(
        Organization, Organization.id == Authorization.organization_id
    )


def _entry(authorization: Authorization, organization: Organization, expires_at, now) -> Entry:
    catalog = get_catalog()
    catalog_form = catalog.form(authorization.form_uid)
    definition = catalog.definitions.get(authorization.definition_id)
    data = authorization.data or {}
    scopes = tuple(
        (definition.scope(value).label if definition and definition.scope(value) else value)
        for value in data.get("scopes", [])
    )
    if expires_at is not None and expires_at.tzinfo is None:
        expires_at = expires_at.replace(tzinfo=UTC)
    state = authorization.state
    if state == AUTHORIZATION_ACTIVE and expires_at is not None and expires_at <= now:
        state = EXPIRED
    return Entry(
        id=authorization.id,
        request_id=authorization.authorization_request_id,
        organization=organization.display_name,
        siret=organization.siret,
        definition=definition.name if definition else authorization.definition_id,
        form=catalog_form.name if catalog_form else authorization.form_uid,
        scopes=scopes,
        legal_basis=str(data.get("cadre_juridique_nature") or ""),
        legal_url=str(data.get("cadre_juridique_url") or ""),
        validated_at=authorization.created_at,
        expires_at=expires_at,
        state=state,
    )


def _filtered(search: str, definition_id: str | None):
    query = _query().where(Authorization.state != AUTHORIZATION_OBSOLETE)
    if definition_id:
        query = query.where(Authorization.definition_id == definition_id)
    search = search.strip()
    reference = REFERENCE.match(search)
    if reference:
        query = query.where(Authorization.id == int(reference.group(1)))
    elif search:
        digits = re.sub(r"\s", "", search)
        query = query.where(
            or_(
                func.lower(Organization.name).contains(search.lower(), autoescape=True),
                Organization.siret == digits,
            )
        )
    return query


def page(
    search: str = "", definition_id: str | None = None, *, after: int | None = None
) -> tuple[list[Entry], int | None]:
    """A page of the register, newest first, and the id to continue after (or None)."""
    query = _filtered(search, definition_id)
    if after is not None:
        query = query.where(Authorization.id < after)
    rows = db.session.execute(query.order_by(Authorization.id.desc()).limit(PAGE_SIZE + 1)).all()
    now = utcnow()
    entries = [_entry(*row, now) for row in rows[:PAGE_SIZE]]
    following = entries[-1].id if len(rows) > PAGE_SIZE else None
    return entries, following


def _walk(query, *, batch: int = 500) -> Iterator[Entry]:
    """Every entry of ``query``, newest first, by keyset batches (one query each)."""
    after = None
    now = utcnow()
    while True:
        statement = query if after is None else query.where(Authorization.id < after)
        rows = db.session.execute(statement.order_by(Authorization.id.desc()).limit(batch)).all()
        for row in rows:
            yield _entry(*row, now)
        if len(rows) < batch:
            return
        after = rows[-1][0].id
        db.session.expunge_all()


def export_csv(search: str = "", definition_id: str | None = None) -> Iterator[str]:
    """The register (filtered like the page) as CSV lines."""
    entries = _walk(_filtered(search, definition_id))
    return csv_lines(CSV_HEADER, (entry.csv_row() for entry in entries))


def find(authorization_id: int) -> Entry | None:
    """An habilitation's public entry (superseded ones included), in one query."""
    row = db.session.execute(_query().where(Authorization.id == authorization_id)).first()
    return _entry(*row, utcnow()) if row else None


# ---------------------------------------------------------------- the monthly export


def month_bounds(month: str) -> tuple[datetime, datetime]:
    """``2026-11`` → its first instant and the next month's (UTC); ValueError otherwise."""
    match = MONTH.match(month or "")
    if not match:
        raise ValueError("Le mois s’écrit AAAA-MM, par exemple 2026-11.")
    year, number = int(match.group(1)), int(match.group(2))
    start = datetime(year, number, 1, tzinfo=UTC)
    end = datetime(year + number // 12, number % 12 + 1, 1, tzinfo=UTC)
    return start, end


def export_path(month: str) -> Path:
    return Path(current_app.config["REGISTER_EXPORT_DIR"]) / f"registre-habilitations-{month}.csv"


def export_month(month: str) -> tuple[Path, int]:
    """Write the habilitations validated during ``month`` (their state today) to its CSV."""
    start, end = month_bounds(month)
    query = _query().where(Authorization.created_at >= start, Authorization.created_at < end)
    entries = list(_walk(query))
    path = export_path(month)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    with temporary.open("w", encoding="utf-8", newline="") as file:
        file.writelines(csv_lines(CSV_HEADER, (entry.csv_row() for entry in entries)))
    temporary.replace(path)
    return path, len(entries)


def previous_month(now: datetime) -> str:
    index = now.year * 12 + now.month - 2
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def export_last_month(now: datetime) -> int:
    """The periodic task: last month's file, once (1 when written, 0 when already there)."""
    month = previous_month(now)
    if export_path(month).exists():
        return 0
    export_month(month)
    return 1


# ---------------------------------------------------------------- the fingerprint


def snapshot(authorization: Authorization) -> dict:
    """What an habilitation froze at its approval, as plain JSON values (contacts aside)."""
    return {
        "habilitation": authorization.public_reference,
        "demande": f"D{authorization.authorization_request_id}",
        "type_habilitation": authorization.definition_id,
        "demarche": authorization.form_uid,
        "siret": authorization.organization.siret,
        "date_validation": authorization.created_at.astimezone(UTC).isoformat(),
        # Contacts are left out: replacing one (« Mettre à jour les contacts ») needs no new
        # review and must not break the receipts already printed.
        "donnees": {
            name: value
            for name, value in (authorization.data or {}).items()
            if blocks.block_of(name) != "contacts"
        },
    }


def fingerprint(authorization: Authorization) -> str:
    """SHA-256 (hex) of the canonical JSON of ``snapshot``: sorted keys, no spaces, UTF-8."""
    canonical = json.dumps(
        snapshot(authorization), sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
