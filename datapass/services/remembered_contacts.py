"""Remembered contacts: a new request starts with its organisation's contacts.

They are read, at start, from the organisation's last submitted or validated request of
the same definition (no table of their own: they are purged with that request). A contact
type is taken whole (its five answers) and only when that request named a person for it
(not an editor's support team) and the new démarche does not set it itself (an editor's
contact, locked or proposed). An unverified member, who sees only their own requests, only
gets the contacts of their own requests. Never across organisations: the query is on the
new request's organisation, and changing it forgets the values still as remembered.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from datapass import workflow
from datapass.blocks.contacts import CONTACT_SUFFIXES
from datapass.catalog import get_catalog
from datapass.extensions import db
from datapass.models import AuthorizationRequest, Organization, User

# Requests whose contacts an organisation stands by: submitted (in instruction) or validated.
REMEMBERED_STATES = (workflow.SUBMITTED, workflow.CHANGES_REQUESTED, workflow.VALIDATED)


def last_request(
    organization: Organization, definition_id: str, applicant: User
) -> AuthorizationRequest | None:
    """The organisation's last submitted or validated request of the definition that the
    applicant may read (their own only, when their membership is not verified)."""
    query = select(AuthorizationRequest).where(
        AuthorizationRequest.organization_id == organization.id,
        AuthorizationRequest.definition_id == definition_id,
        AuthorizationRequest.state.in_(REMEMBERED_STATES),
        AuthorizationRequest.purged_at.is_(None),  # nothing left to remember
    )
    membership = applicant.membership_for(organization.id)
    if membership is None or not membership.verified:
        query = query.where(AuthorizationRequest.applicant_id == applicant.id)
    query = query.order_by(
        AuthorizationRequest.last_submitted_at.desc(), AuthorizationRequest.id.desc()
    ).limit(1)
    return db.session.scalar(query)


def remembered_contacts(
    catalog_form, organization: Organization | None, applicant: User
) -> tuple[dict[str, str], AuthorizationRequest | None]:
    """(answers, source request) of the contacts a new request on ``catalog_form`` starts
    with; empty when there is nothing to remember."""
    if organization is None or organization.id is None:
        return {}, None
    source = last_request(organization, catalog_form.definition.id, applicant)
    if source is None:
        return {}, None
    data = source.data or {}
    source_form = get_catalog().form(source.form_uid)
    teams = source_form.organization_contacts(data) if source_form else frozenset()
    answers: dict[str, str] = {}
    for contact in catalog_form.contact_types:
        keys = [f"{contact}_{suffix}" for suffix in CONTACT_SUFFIXES]
        if contact in teams or contact in catalog_form.locked_contact_types:
            continue
        if any(key in catalog_form.initialize_with for key in keys):
            continue  # the démarche sets it (an editor's support, locked or proposed)
        if not _text(data.get(f"{contact}_email")):
            continue
        for key in keys:
            if key not in catalog_form.implied_answers():
                answers[key] = _text(data.get(key))
    return answers, (source if answers else None)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def forget_for_another_organization(
    authorization_request: AuthorizationRequest, catalog_form
) -> None:
    """The organisation changed: drop the remembered values the applicant has not changed
    (they belong to the other organisation). No commit."""
    remembered = _remembered(authorization_request)
    if not remembered:
        return
    data = dict(authorization_request.data or {})
    for key, value in remembered.items():
        if data.get(key) == value:
            data[key] = ""
    authorization_request.data = catalog_form.enforce_locks(data)


def _remembered(authorization_request: AuthorizationRequest) -> Mapping[str, str]:
    created = next((e for e in authorization_request.events if e.name == "create"), None)
    return ((created.payload or {}) if created else {}).get("remembered_contacts") or {}
