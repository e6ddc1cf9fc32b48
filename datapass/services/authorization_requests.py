"""Applicant side of a demande: start, pre-fill, save steps, validate, submit, and the rest.

The answers live in ``AuthorizationRequest.data`` as typed (strings and lists of strings),
so that « Enregistrer » keeps a half-filled step. Locked (static) blocks always hold the
form's values: whatever a browser posts for them is ignored, here, on the server.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from datapass import workflow
from datapass.catalog import get_catalog
from datapass.catalog.blocks import PREFILLABLE_FIELDS
from datapass.errors import UserError
from datapass.extensions import db
from datapass.forms import wizard
from datapass.models import AuthorizationRequest, Organization, RequestContact, User
from datapass.services import organizations

MAX_VALUE_LENGTH = 10_000
LIST_FIELDS = frozenset({"scopes", "modalities"})


class RequestError(UserError):
    """A refused applicant action."""


# ---------------------------------------------------------------- pre-fill


def sanitize(value: Any) -> str:
    """Plain text: tags stripped, spaces trimmed, bounded length."""
    text = str(value)[:MAX_VALUE_LENGTH]
    if "<" in text or "&" in text:
        text = Markup(text).striptags()  # noqa: S704 (only to strip tags; never rendered)
    return text.strip()


def prefill_from_query(form, args) -> dict[str, Any]:
    """The allowlisted query parameters of an editor's link, cleaned.

    Contacts are never taken (a link must not name somebody's technical contact), nor
    fields of locked blocks, nor unknown keys; a bad value is skipped silently.
    """
    allowed = {field for field in PREFILLABLE_FIELDS if not wizard.field_is_locked(form, field)}
    offered = {scope.value for group in form.offered_scopes() for scope in group.scopes}
    modalities = set(wizard.modality_values(form))
    prefill: dict[str, Any] = {}
    for key in args:
        name = key[:-2] if key.endswith("[]") else key
        if name not in allowed or name == "cadre_juridique_document":
            continue
        if name in LIST_FIELDS:
            choices = offered if name == "scopes" else modalities
            values = [sanitize(v) for v in args.getlist(key)]
            kept = [v for v in values if v in choices]
            if kept:
                prefill[name] = sorted(set(prefill.get(name, [])) | set(kept))
            continue
        value = sanitize(args.get(key, ""))
        if not value:
            continue
        if name == "duree_conservation_donnees_caractere_personnel" and not value.isdigit():
            continue
        if name == "date_prevue_mise_en_production" and not re.fullmatch(
            r"\d{4}-\d{2}-\d{2}", value
        ):
            continue
        prefill[name] = value
    return prefill


def initial_data(form, prefill: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Form defaults < query parameters (what the applicant types comes later)."""
    data: dict[str, Any] = {}
    for key, value in form.initialize_with.items():
        data[key] = list(value) if isinstance(value, list | tuple) else value
    for key, value in (prefill or {}).items():
        if key == "scopes":
            data[key] = sorted(set(data.get("scopes", [])) | set(value))
        else:
            data[key] = list(value) if isinstance(value, list | tuple) else value
    return wizard.enforce_locked(form, data)


# ---------------------------------------------------------------- start and save


def start_request(
    user: User, form, *, prefill: Mapping[str, Any] | None = None
) -> AuthorizationRequest:
    """A new draft for the user's current organisation, with the form's pre-filled values."""
    organization = user.current_organization
    if organization is None:
        raise RequestError(
            "Choisissez d’abord l’organisation pour laquelle vous faites la demande."
        )
    if organization.is_closed:
        raise RequestError(
            "Cet établissement est fermé d’après le répertoire Sirene : il ne peut pas "
            "demander d’habilitation."
        )
    data = initial_data(form, prefill)
    request = AuthorizationRequest(
        definition_id=form.definition.id,
        form_uid=form.uid,
        catalog_version=get_catalog().version,
        state=workflow.DRAFT,
        data=data,
        intitule=(data.get("intitule") or None),
        organization=organization,
        applicant=user,
    )
    db.session.add(request)
    sync_contacts(request, form)
    request.record_event(
        "create", actor=user, payload={"initial": data, "prefilled_keys": sorted(prefill or {})}
    )
    db.session.commit()
    return request


def save_answers(request: AuthorizationRequest, form, block: str, answers: Mapping) -> None:
    """Store what was typed in one block (no validation). Locked blocks are not written."""
    if not request.is_editable:
        raise RequestError("Cette demande ne peut plus être modifiée.")
    if wizard.block_is_locked(form, block):
        return
    data = dict(request.data or {})
    for field in wizard.block_fields(form, block):
        if field == "cadre_juridique_document":
            continue
        if field in LIST_FIELDS:
            data[field] = [sanitize(v) for v in answers.get(field, [])]
        elif field in answers:
            data[field] = sanitize(answers[field])
    request.data = wizard.enforce_locked(form, data)
    request.intitule = (request.data.get("intitule") or None) and request.data["intitule"][:255]


def change_organization(request: AuthorizationRequest, user: User, raw_siret: str) -> Organization:
    """The « Votre organisation » step with another SIRET: validated, looked up, linked."""
    if not request.is_editable:
        raise RequestError("Cette demande ne peut plus être modifiée.")
    organization = organizations.find_or_create_organization(raw_siret)
    if organization.is_closed:
        raise RequestError(
            "Cet établissement est fermé d’après le répertoire Sirene : il ne peut pas "
            "demander d’habilitation."
        )
    if user.membership_for(organization.id) is None if organization.id else True:
        organizations.add_membership(
            user, organization, verified=False, reason="declared_in_request"
        )
    user.current_organization = organization
    request.organization = organization
    return organization


def sync_contacts(request: AuthorizationRequest, form) -> None:
    """Keep the indexed copy of the contacts' emails (contacts may read the request)."""
    emails = {}
    for contact in wizard.contact_types(form):
        email = (request.data or {}).get(f"{contact}_email", "").strip().lower()
        if "@" in email:
            emails[contact] = email[:255]
    existing = {c.contact_type: c for c in request.contacts}
    for contact_type, row in existing.items():
        if contact_type not in emails:
            request.contacts.remove(row)
        elif row.email != emails[contact_type]:
            row.email = emails[contact_type]
    for contact_type, email in emails.items():
        if contact_type not in existing:
            request.contacts.append(RequestContact(contact_type=contact_type, email=email))


def commit() -> None:
    db.session.commit()


# ---------------------------------------------------------------- validation and submission


@dataclass
class SubmitResult:
    errors: dict[str, dict[str, list[str]]]  # block → field → messages

    @property
    def ok(self) -> bool:
        return not self.errors


def validate_all(request: AuthorizationRequest, form) -> dict[str, dict[str, list[str]]]:
    errors = {}
    for block in wizard.all_blocks(form):
        block_errors = wizard.validate_block(form, block, request)
        if block_errors:
            errors[block] = block_errors
    if request.organization.is_closed:
        errors["organization"] = {
            "siret": ["Cet établissement est fermé : la demande ne peut pas être déposée."]
        }
    return errors


def _document_snapshot(request: AuthorizationRequest) -> list[dict]:
    return [
        {"field": d.field, "filename": d.filename, "sha256": d.sha256, "size": d.size}
        for d in request.documents
    ]


def _previous_snapshot(request: AuthorizationRequest) -> tuple[dict, list[dict], bool]:
    """The data and documents of the last submission, or the initial pre-fill."""
    for event in reversed(request.events):
        if event.name == "submit" and "snapshot" in (event.payload or {}):
            return event.payload["snapshot"], event.payload.get("documents", []), False
    for event in request.events:
        if event.name == "create":
            return (event.payload or {}).get("initial", {}), [], True
    return {}, [], True


def changelog(before: Mapping, after: Mapping, docs_before: list, docs_after: list) -> dict:
    """What changed, as data: fields {name: [before, after]}, scopes and documents sets."""
    fields = {}
    for key in sorted(set(before) | set(after)):
        if key in LIST_FIELDS:
            continue
        old, new = before.get(key) or "", after.get(key) or ""
        if old != new:
            fields[key] = [old, new]
    scopes_before, scopes_after = set(before.get("scopes") or []), set(after.get("scopes") or [])
    modalities_before = set(before.get("modalities") or [])
    modalities_after = set(after.get("modalities") or [])
    keys_before = {(d["filename"], d["sha256"]) for d in docs_before}
    keys_after = {(d["filename"], d["sha256"]) for d in docs_after}
    return {
        "fields": fields,
        "scopes_added": sorted(scopes_after - scopes_before),
        "scopes_removed": sorted(scopes_before - scopes_after),
        "modalities_added": sorted(modalities_after - modalities_before),
        "modalities_removed": sorted(modalities_before - modalities_after),
        "documents_added": sorted(name for name, _ in keys_after - keys_before),
        "documents_removed": sorted(name for name, _ in keys_before - keys_after),
    }


def has_changes(log: Mapping) -> bool:
    return any(log[key] for key in log)


def submit_request(
    request: AuthorizationRequest,
    form,
    user: User,
    *,
    terms_accepted: bool,
    dpo_informed: bool,
) -> SubmitResult:
    """Full server-side validation, then the ``submit`` transition with its changelog."""
    role = workflow.APPLICANT if request.applicant_id == user.id else workflow.STRANGER
    if user.current_organization_id != request.organization_id:
        role = workflow.STRANGER
    request.data = wizard.enforce_locked(form, dict(request.data or {}))
    errors = validate_all(request, form)
    summary_errors = {}
    if not terms_accepted:
        summary_errors["terms_of_service_accepted"] = [
            "Acceptez les conditions générales d’utilisation pour soumettre la demande."
        ]
    if wizard.has_dpo(form) and not dpo_informed:
        summary_errors["data_protection_officer_informed"] = [
            "Confirmez que le délégué à la protection des données est informé de la demande."
        ]
    if summary_errors:
        errors["summary"] = summary_errors
    before, docs_before, first = _previous_snapshot(request)
    snapshot = dict(request.data)
    documents = _document_snapshot(request)
    log = changelog(before, snapshot, docs_before if not first else [], documents)
    if request.is_reopening and not has_changes(changelog(*_validated_snapshot(request))):
        errors.setdefault("summary", {})["changes"] = [
            "Modifiez au moins une information avant de soumettre à nouveau cette habilitation."
        ]
    if errors:
        return SubmitResult(errors)
    request.terms_of_service_accepted = True
    request.data_protection_officer_informed = dpo_informed
    try:
        workflow.apply(
            request,
            "submit",
            actor=user,
            role=role,
            payload={
                "changes": log,
                "first_submission": first,
                "snapshot": snapshot,
                "documents": documents,
            },
        )
    except workflow.TransitionError as error:
        raise RequestError(error.message) from error
    db.session.commit()
    return SubmitResult({})


def _validated_snapshot(request: AuthorizationRequest) -> tuple[dict, dict, list, list]:
    """Data of the habilitation being reopened versus now (a reopening must change something)."""
    authorization = request.authorizations[-1] if request.authorizations else None
    frozen = dict(authorization.data or {}) if authorization is not None else {}
    return frozen, dict(request.data or {}), [], []


# ---------------------------------------------------------------- other applicant actions


def _apply(request: AuthorizationRequest, event: str, user: User, *, reason=None) -> None:
    from datapass.permissions import workflow_role

    try:
        workflow.apply(request, event, actor=user, role=workflow_role(user, request), reason=reason)
    except workflow.TransitionError as error:
        raise RequestError(error.message) from error
    db.session.commit()


def archive_request(request: AuthorizationRequest, user: User) -> None:
    _apply(request, "archive", user)


def reopen_request(request: AuthorizationRequest, user: User) -> None:
    _apply(request, "reopen", user)


def cancel_reopening(request: AuthorizationRequest, user: User) -> None:
    """Back to the validated habilitation; the answers return to what was approved."""
    authorization = request.authorizations[-1] if request.authorizations else None
    _apply(request, "cancel_reopening", user)
    if authorization is not None and authorization.data:
        request.data = dict(authorization.data)
        request.intitule = request.data.get("intitule")
        db.session.commit()
