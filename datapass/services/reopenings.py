"""Reopenings: a change asked to a validated habilitation, which stays valid meanwhile.

A reopening must change something (answers or documents) to be submitted; cancelled by the
applicant or refused by an instructor, the request returns to the habilitation's answers
and documents; approved, the new habilitation keeps the token of the previous one
(``tokens.carry_over``).
"""

from __future__ import annotations

from collections.abc import Iterable

from datapass.catalog import get_catalog
from datapass.models import Authorization, AuthorizationRequest, Document
from datapass.services import documents as documents_service
from datapass.services.authorization_requests import sync_contacts


def reopened_authorization(authorization_request: AuthorizationRequest) -> Authorization | None:
    """The active habilitation a reopening changes (the latest)."""
    active = [a for a in authorization_request.authorizations if a.is_active]
    return active[-1] if active else None


def document_snapshot(documents: Iterable[Document]) -> list[dict]:
    return [
        {"field": d.field, "filename": d.filename, "sha256": d.sha256, "size": d.size}
        for d in documents
    ]


def restore(authorization_request: AuthorizationRequest) -> None:
    """A refused or cancelled reopening: back to the answers and the documents of the
    validated habilitation. Documents added meanwhile are deleted (their files once the
    caller commits); those removed meanwhile, which the habilitation holds, come back. No
    commit."""
    authorization = reopened_authorization(authorization_request)
    if authorization is None:
        return
    authorization_request.data = dict(authorization.data or {})
    authorization_request.intitule = authorization_request.data.get("intitule")
    catalog_form = get_catalog().form(authorization_request.form_uid)
    if catalog_form is not None:
        # The contact rows follow the answers back (a contact changed meanwhile loses access).
        sync_contacts(authorization_request, catalog_form)
    held = list(authorization.documents)
    for document in list(authorization_request.documents):
        if document not in held:
            documents_service.remove_document(authorization_request, document.id)
    for document in held:
        if document not in authorization_request.documents:
            authorization_request.documents.append(document)
