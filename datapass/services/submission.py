"""Submission: every block validated on the server, then ``submit`` with its changelog.

The changelog (what changed since the last submission, or since the pre-filled values on a
first one) is data in the ``submit`` event's payload; ``presenter.describe_changes`` turns
it into French sentences for the instructors.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from datapass import blocks, workflow
from datapass.extensions import db
from datapass.models import AuthorizationRequest, User
from datapass.services import reopenings
from datapass.services.authorization_requests import (
    STALE_STEP,
    RequestError,
    is_current_version,
)


@dataclass
class SubmitResult:
    errors: dict[str, dict[str, list[str]]]  # block → field → messages

    @property
    def ok(self) -> bool:
        return not self.errors


def validate_all(
    authorization_request: AuthorizationRequest, catalog_form
) -> dict[str, dict[str, list[str]]]:
    errors = blocks.validate_all(catalog_form, authorization_request)
    if authorization_request.organization.is_closed:
        errors["organization"] = {
            "siret": ["Cet établissement est fermé : la demande ne peut pas être déposée."]
        }
    return errors


def _document_snapshot(authorization_request: AuthorizationRequest) -> list[dict]:
    return reopenings.document_snapshot(authorization_request.documents)


def _previous_snapshot(
    authorization_request: AuthorizationRequest,
) -> tuple[dict, list[dict], bool]:
    """The data and documents of the last submission, or the initial pre-fill."""
    for event in reversed(authorization_request.events):
        if event.name == "submit" and "snapshot" in (event.payload or {}):
            return event.payload["snapshot"], event.payload.get("documents", []), False
    for event in authorization_request.events:
        if event.name == "create":
            return (event.payload or {}).get("initial", {}), [], True
    return {}, [], True


def changelog(before: Mapping, after: Mapping, docs_before: list, docs_after: list) -> dict:
    """What changed, as data: fields {name: [before, after]}, scopes and documents sets."""
    fields = {}
    for key in sorted(set(before) | set(after)):
        if key in blocks.LIST_FIELDS:
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
    authorization_request: AuthorizationRequest,
    catalog_form,
    user: User,
    *,
    terms_accepted: bool,
    dpo_informed: bool,
    version: str | None = None,
) -> SubmitResult:
    """Full server-side validation, then the ``submit`` transition with its changelog.

    ``version`` is the summary page's (None: not posted from a page); missing or old, the
    submission is refused: the applicant must see what they submit."""
    if version is not None and not is_current_version(authorization_request, version):
        return SubmitResult({"summary": {"changes": [STALE_STEP]}})
    role = (
        workflow.APPLICANT if authorization_request.applicant_id == user.id else workflow.STRANGER
    )
    if user.current_organization_id != authorization_request.organization_id:
        role = workflow.STRANGER
    authorization_request.data = catalog_form.enforce_locks(dict(authorization_request.data or {}))
    errors = validate_all(authorization_request, catalog_form)
    summary_errors = {}
    if not terms_accepted:
        summary_errors["terms_of_service_accepted"] = [
            "Acceptez les conditions générales d’utilisation pour soumettre la demande."
        ]
    if catalog_form.has_dpo and not dpo_informed:
        summary_errors["data_protection_officer_informed"] = [
            "Confirmez que le délégué à la protection des données est informé de la demande."
        ]
    if summary_errors:
        errors["summary"] = summary_errors
    before, docs_before, first = _previous_snapshot(authorization_request)
    snapshot = dict(authorization_request.data)
    documents = _document_snapshot(authorization_request)
    log = changelog(before, snapshot, docs_before if not first else [], documents)
    if authorization_request.is_reopening and not has_changes(
        changelog(*_validated_snapshot(authorization_request))
    ):
        errors.setdefault("summary", {})["changes"] = [
            "Modifiez au moins une information avant de soumettre à nouveau cette habilitation."
        ]
    if errors:
        db.session.rollback()
        return SubmitResult(errors)
    authorization_request.terms_of_service_accepted = True
    authorization_request.data_protection_officer_informed = dpo_informed
    try:
        workflow.apply(
            authorization_request,
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
        db.session.rollback()
        raise RequestError(error.message) from error
    db.session.commit()
    return SubmitResult({})


def _validated_snapshot(
    authorization_request: AuthorizationRequest,
) -> tuple[dict, dict, list, list]:
    """Answers and documents of the habilitation being reopened versus now (a reopening must
    change something: a document added or removed is a change)."""
    authorization = reopenings.reopened_authorization(authorization_request)
    if authorization is None:
        return {}, dict(authorization_request.data or {}), [], []
    return (
        dict(authorization.data or {}),
        dict(authorization_request.data or {}),
        reopenings.document_snapshot(authorization.documents),
        _document_snapshot(authorization_request),
    )
