"""Who may see and do what: predicates used by views and templates alike."""

from __future__ import annotations

from functools import wraps
from typing import Any

from flask import abort
from flask_login import current_user

from datapass import workflow
from datapass.catalog import get_catalog


def _signed_in(user: Any) -> bool:
    return user is not None and getattr(user, "is_authenticated", False)


def is_admin(user: Any) -> bool:
    return _signed_in(user) and user.is_admin


def can_report(user: Any, definition_id: str) -> bool:
    """Read the instruction space of the definition."""
    return _signed_in(user) and user.has_role(definition_id, "reporter")


def can_instruct(user: Any, definition_id: str) -> bool:
    """Decide on the definition's requests."""
    return _signed_in(user) and user.has_role(definition_id, "instructor")


def can_manage(user: Any, definition_id: str) -> bool:
    """Manage message templates and the rights of others on the definition."""
    return _signed_in(user) and user.has_role(definition_id, "manager")


def can_develop(user: Any, definition_id: str) -> bool:
    """Use the developer space (webhooks, API clients) of the definition."""
    return _signed_in(user) and user.has_role(definition_id, "developer")


def developer_definitions(user: Any) -> list[str]:
    """The definitions whose developer space (webhooks, API perimeter) ``user`` uses: every
    definition of the catalogue for an admin, else those where they hold the developer role,
    sorted. Roles on definitions outside the catalogue do not count."""
    if not _signed_in(user):
        return []
    definitions = get_catalog().definitions
    if user.is_admin:
        return list(definitions)
    return sorted(d for d in user.definitions_with_role("developer") if d in definitions)


def editor_spaces(user: Any) -> list:
    """The catalogue's editors whose staff ``user`` is (``editor:<id>`` roles), by name: the
    « Espace éditeur » entries of the navigation. Admins see every space but get no entry."""
    if not _signed_in(user):
        return []
    editors = get_catalog().editors
    held = [editors[editor_id] for editor_id in user.editor_ids if editor_id in editors]
    return sorted(held, key=lambda editor: editor.name)


def can_use_editor_space(user: Any, editor_id: str) -> bool:
    """The editor's space: its staff (``editor:<id>``) and admins."""
    if not _signed_in(user) or editor_id not in get_catalog().editors:
        return False
    return user.is_admin or editor_id in user.editor_ids


def technical_contact_is_editor(authorization_request: Any) -> bool:
    """The request (or habilitation: its answers as approved) was made through an editor's
    démarche and its technical contact is that editor's support team (an organisation
    contact, see ``catalog.Form``)."""
    catalog_form = get_catalog().form(authorization_request.form_uid)
    return catalog_form is not None and catalog_form.technical_contact_is_editor(
        authorization_request.data or {}
    )


def is_editor_staff_for(user: Any, authorization_request: Any) -> bool:
    """``user`` is the staff of the editor whose démarche the request (or habilitation) went
    through, and that editor is its technical contact. Never through a generic form, nor
    another editor's démarche; an admin is not an editor's staff."""
    if not _signed_in(user) or not user.editor_ids:
        return False
    catalog_form = get_catalog().form(authorization_request.form_uid)
    if catalog_form is None or catalog_form.editor is None:
        return False
    return catalog_form.editor.id in user.editor_ids and catalog_form.technical_contact_is_editor(
        authorization_request.data or {}
    )


def can_access_instruction(user: Any) -> bool:
    """Holds a reporter role (or more) on at least one definition, or is an admin."""
    return _signed_in(user) and (user.is_admin or bool(user.definitions_with_role("reporter")))


def is_applicant(user: Any, authorization_request: Any) -> bool:
    """The request's applicant, acting for the request's organisation."""
    return (
        _signed_in(user)
        and authorization_request.applicant_id == user.id
        and user.current_organization_id == authorization_request.organization_id
    )


def is_verified_member(user: Any, organization_id: int) -> bool:
    return _signed_in(user) and organization_id in user.verified_organization_ids


def workflow_role(user: Any, authorization_request: Any) -> str:
    """The workflow role the user holds on this request (see workflow.ROLES)."""
    if not _signed_in(user):
        return workflow.STRANGER
    if is_applicant(user, authorization_request):
        return workflow.APPLICANT
    if can_instruct(user, authorization_request.definition_id):
        return workflow.INSTRUCTOR
    if can_report(user, authorization_request.definition_id):
        return workflow.REPORTER
    if is_verified_member(user, authorization_request.organization_id):
        return workflow.MEMBER
    return workflow.STRANGER


def can_edit_request(user: Any, authorization_request: Any) -> bool:
    """The applicant, acting for the request's organisation, edits an editable request."""
    return is_applicant(user, authorization_request) and authorization_request.is_editable


def _organization_contacts(authorization_request_or_authorization: Any) -> frozenset[str]:
    """Contact types that are an organisation (an editor's support), not a person."""
    catalog_form = get_catalog().form(authorization_request_or_authorization.form_uid)
    if catalog_form is None:
        return frozenset()
    return catalog_form.organization_contacts(authorization_request_or_authorization.data or {})


def is_request_contact(user: Any, authorization_request: Any) -> bool:
    """A person named as a contact of the request (an editor's support mailbox is not one:
    the editor's staff act through their space)."""
    if not _signed_in(user):
        return False
    excluded = _organization_contacts(authorization_request)
    return any(
        c.email == user.email and c.contact_type not in excluded
        for c in authorization_request.contacts
    )


def can_view_request(user: Any, authorization_request: Any) -> bool:
    """Applicant, verified members of its organisation, its contacts, the definition's staff."""
    return (
        (_signed_in(user) and authorization_request.applicant_id == user.id)
        or is_verified_member(user, authorization_request.organization_id)
        or can_report(user, authorization_request.definition_id)
        or is_request_contact(user, authorization_request)
    )


def is_technical_contact(user: Any, authorization: Any) -> bool:
    """The signed-in user whose email (asserted by the identity provider) is the
    technical contact's of the habilitation."""
    if not _signed_in(user) or not user.email:
        return False
    if "contact_technique" in _organization_contacts(authorization):
        return False  # the editor's support: its staff hold the token (is_editor_staff_for)
    email = (authorization.data or {}).get("contact_technique_email") or ""
    return email.strip().lower() == user.email.strip().lower()


def can_hold_token(user: Any, authorization: Any) -> bool:
    """Reveal, rotate and prolong the habilitation's token: the request's applicant (acting
    for its organisation) and the technical contact — for an editor's support team (an
    organisation contact), the editor's staff; not the other colleagues."""
    if not _signed_in(user):
        return False
    authorization_request = authorization.request
    if (
        authorization_request.applicant_id == user.id
        and user.current_organization_id == authorization.organization_id
    ):
        return True
    return is_technical_contact(user, authorization) or is_editor_staff_for(user, authorization)


def is_impersonated(user: Any) -> bool:
    """An administrator acts as ``user`` (« Se connecter en tant que »)."""
    return _signed_in(user) and getattr(user, "impersonator", None) is not None


def can_use_token(user: Any, authorization: Any) -> bool:
    """Reveal, rotate or prolong the token: its holder, never while impersonated."""
    return can_hold_token(user, authorization) and not is_impersonated(user)


def can_view_authorization(user: Any, authorization: Any) -> bool:
    """The habilitation page: who holds its token, verified colleagues, the definition's staff."""
    return (
        can_hold_token(user, authorization)
        or is_verified_member(user, authorization.organization_id)
        or can_report(user, authorization.definition_id)
    )


def updatable_contacts(user: Any, authorization: Any) -> tuple[str, ...]:
    """« Mettre à jour les contacts »: the contact types ``user`` may replace on an active
    habilitation whose request is validated (not being reopened): every card for the
    applicant acting for its organisation, the technical card for the technical contact;
    never a contact the démarche fixes (an editor's support), nor a locked contacts block."""
    if not _signed_in(user) or not authorization.is_active:
        return ()
    authorization_request = authorization.request
    if authorization_request.state != workflow.VALIDATED:
        return ()
    catalog_form = get_catalog().form(authorization.form_uid)
    if catalog_form is None or catalog_form.is_locked("contacts"):
        return ()
    editable = tuple(
        c for c in catalog_form.contact_types if c not in catalog_form.locked_contact_types
    )
    if is_applicant(user, authorization_request):
        return editable
    if "contact_technique" in editable and is_technical_contact(user, authorization):
        return ("contact_technique",)
    return ()


def can_update_contacts(user: Any, authorization: Any) -> bool:
    return bool(updatable_contacts(user, authorization))


def can_take_over(user: Any, authorization_request: Any) -> bool:
    """« Reprendre la demande »: a verified colleague of its organisation becomes its applicant."""
    return (
        _signed_in(user)
        and authorization_request.applicant_id != user.id
        and is_verified_member(user, authorization_request.organization_id)
        and workflow.can_take_over(authorization_request, workflow.MEMBER)
    )


def can_start_request(user: Any) -> bool:
    """A request is started for the current organisation, which must not be closed."""
    organization = getattr(user, "current_organization", None) if _signed_in(user) else None
    return organization is not None and not organization.is_closed


def admin_required(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        if not _signed_in(current_user):
            abort(401)
        if not is_admin(current_user):
            abort(403)
        return view(*args, **kwargs)

    return wrapper


TEMPLATE_PREDICATES = {
    "is_admin": is_admin,
    "can_report": can_report,
    "can_instruct": can_instruct,
    "can_manage": can_manage,
    "can_develop": can_develop,
    "developer_definitions": developer_definitions,
    "workflow_role": workflow_role,
    "can_start_request": can_start_request,
    "can_edit_request": can_edit_request,
    "can_view_request": can_view_request,
    "is_applicant": is_applicant,
    "can_access_instruction": can_access_instruction,
    "editor_spaces": editor_spaces,
    "can_use_editor_space": can_use_editor_space,
    "is_editor_staff_for": is_editor_staff_for,
    "can_hold_token": can_hold_token,
    "can_update_contacts": can_update_contacts,
    "can_use_token": can_use_token,
    "is_impersonated": is_impersonated,
    "can_take_over": can_take_over,
}
