"""Instruction administration: message templates and rights of a definition (its managers),
notification settings (its reporters and instructors)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from datapass import permissions
from datapass.catalog import get_catalog
from datapass.extensions import db
from datapass.forms.instruction_admin import (
    ADMIN_GRANTABLE_ROLES,
    MANAGER_GRANTABLE_ROLES,
    ROLE_LABELS,
    GrantRoleForm,
    MessageTemplateForm,
    RevokeRoleForm,
    digest_choices,
    digest_field,
    messages_field,
    notification_choices,
    notification_settings_form,
    submissions_field,
)
from datapass.models import MessageTemplate
from datapass.models.instruction import TEMPLATE_KIND_LABELS
from datapass.models.user import ROLE_NAMES
from datapass.services import instructor_settings
from datapass.services.instructor_settings import TemplateTitleTaken
from datapass.services.message_templates import templates_for
from datapass.services.users import grant_role, revoke_role

bp = Blueprint("instruction_admin", __name__)

NBSP = "\u00a0"


def _definition_or_404(definition_id: str):
    definition = get_catalog().definitions.get(definition_id)
    if definition is None:
        abort(404)
    return definition


def _managed_definition(definition_id: str):
    """The definition if the current user manages it (admins do); 404, then 403."""
    definition = _definition_or_404(definition_id)
    if not permissions.can_manage(current_user, definition_id):
        abort(403)
    return definition


def _template_or_404(definition_id: str, template_id: int) -> MessageTemplate:
    template = db.session.get(MessageTemplate, template_id)
    if template is None or template.definition_id != definition_id:
        abort(404)
    return template


# ---------------------------------------------------------------- message templates


@bp.get("/instruction/<definition_id>/modeles")
@login_required
def templates(definition_id: str):
    definition = _definition_or_404(definition_id)
    if not permissions.can_instruct(current_user, definition_id):
        abort(403)
    return render_template(
        "instruction_admin/templates.html",
        definition=definition,
        templates=templates_for(definition_id),
        kind_labels=TEMPLATE_KIND_LABELS,
        can_edit=permissions.can_manage(current_user, definition_id),
    )


def _render_template_form(definition, form: MessageTemplateForm, template):
    body = render_template(
        "instruction_admin/template_form.html", definition=definition, form=form, template=template
    )
    return body, 422 if form.errors else 200


@bp.route("/instruction/<definition_id>/modeles/nouveau", methods=["GET", "POST"])
@login_required
def new_template(definition_id: str):
    definition = _managed_definition(definition_id)
    form = MessageTemplateForm(definition_id=definition_id)
    if form.validate_on_submit():
        try:
            instructor_settings.create_template(
                definition_id, form.title.data, form.kind.data, form.content.data
            )
        except TemplateTitleTaken as error:
            form[error.field].errors.append(error.message)
        else:
            flash(f"Le modèle «{NBSP}{form.title.data}{NBSP}» a été créé.", "success")
            return redirect(url_for(".templates", definition_id=definition_id))
    return _render_template_form(definition, form, None)


@bp.route(
    "/instruction/<definition_id>/modeles/<int:template_id>/modifier", methods=["GET", "POST"]
)
@login_required
def edit_template(definition_id: str, template_id: int):
    definition = _managed_definition(definition_id)
    template = _template_or_404(definition_id, template_id)
    form = MessageTemplateForm(obj=template, definition_id=definition_id, template_id=template.id)
    if form.validate_on_submit():
        try:
            instructor_settings.update_template(
                template, form.title.data, form.kind.data, form.content.data
            )
        except TemplateTitleTaken as error:
            form[error.field].errors.append(error.message)
        else:
            flash(f"Le modèle «{NBSP}{form.title.data}{NBSP}» a été modifié.", "success")
            return redirect(url_for(".templates", definition_id=definition_id))
    return _render_template_form(definition, form, template)


@bp.post("/instruction/<definition_id>/modeles/<int:template_id>/supprimer")
@login_required
def delete_template(definition_id: str, template_id: int):
    _managed_definition(definition_id)
    template = _template_or_404(definition_id, template_id)
    title = template.title
    instructor_settings.delete_template(template)
    flash(f"Le modèle «{NBSP}{title}{NBSP}» a été supprimé.", "success")
    return redirect(url_for(".templates", definition_id=definition_id))


# ---------------------------------------------------------------- rights


def _grantable_roles() -> tuple[str, ...]:
    return ADMIN_GRANTABLE_ROLES if permissions.is_admin(current_user) else MANAGER_GRANTABLE_ROLES


def _grant_form() -> GrantRoleForm:
    return GrantRoleForm(roles=_grantable_roles(), own_email=current_user.email)


def _render_rights(definition, form: GrantRoleForm, status: int = 200):
    holders = instructor_settings.role_holders(definition.id)
    grantable = _grantable_roles()
    own_email = current_user.email.lower()
    rows = [
        (user, role, user.email.lower() != own_email and role in grantable)
        for user, role in holders
    ]
    body = render_template(
        "instruction_admin/rights.html",
        definition=definition,
        form=form,
        rows=rows,
        role_labels=ROLE_LABELS,
    )
    return body, status


@bp.get("/instruction/<definition_id>/droits")
@login_required
def rights(definition_id: str):
    definition = _managed_definition(definition_id)
    return _render_rights(definition, _grant_form())


@bp.post("/instruction/<definition_id>/droits")
@login_required
def grant(definition_id: str):
    definition = _managed_definition(definition_id)
    form = _grant_form()
    if not form.validate_on_submit():
        return _render_rights(definition, form, 422)
    role = form.role.data
    user, added = grant_role(form.email.data, f"{definition_id}:{role}", actor=current_user)
    label = ROLE_LABELS[role]
    if not added:
        flash(f"{user.email} a déjà le rôle «{NBSP}{label}{NBSP}».", "info")
    elif user.sub is None:
        flash(
            f"Le rôle «{NBSP}{label}{NBSP}» est attribué à {user.email}{NBSP}: cette personne "
            "l’aura dès sa première connexion à DataPass.",
            "success",
        )
    else:
        flash(f"Le rôle «{NBSP}{label}{NBSP}» est attribué à {user.email}.", "success")
    return redirect(url_for(".rights", definition_id=definition_id))


@bp.post("/instruction/<definition_id>/droits/retirer")
@login_required
def revoke(definition_id: str):
    _managed_definition(definition_id)
    form = RevokeRoleForm()
    if not form.validate_on_submit() or form.role.data not in ROLE_NAMES:
        abort(400)
    email = form.email.data.strip().lower()
    role = form.role.data
    back = redirect(url_for(".rights", definition_id=definition_id))
    if email == current_user.email.lower():
        flash("Vous ne pouvez pas modifier vos propres droits.", "error")
        return back
    if role not in _grantable_roles():
        flash("Seuls les administrateurs retirent le rôle de gestionnaire.", "error")
        return back
    label = ROLE_LABELS[role]
    if revoke_role(email, f"{definition_id}:{role}", actor=current_user):
        flash(f"Le rôle «{NBSP}{label}{NBSP}» est retiré à {email}.", "success")
    else:
        flash(f"{email} n’avait pas le rôle «{NBSP}{label}{NBSP}».", "info")
    return back


# ---------------------------------------------------------------- notification settings


@bp.route("/instruction/parametres", methods=["GET", "POST"])
@login_required
def settings():
    catalog = get_catalog()
    definition_ids = [
        d for d in instructor_settings.staff_definitions(current_user) if d in catalog.definitions
    ]
    if not definition_ids and not permissions.is_admin(current_user):
        abort(403)
    current = instructor_settings.notification_settings(current_user, definition_ids)
    digests = instructor_settings.digest_settings(current_user, definition_ids)
    form = notification_settings_form(definition_ids, current, digests)
    if form.validate_on_submit():
        if definition_ids:
            choices = notification_choices(form)
            instructor_settings.save_notification_settings(
                current_user, choices, digest_choices(form)
            )
            flash("Vos préférences de notification sont enregistrées.", "success")
        return redirect(url_for(".settings"))
    return render_template(
        "instruction_admin/settings.html",
        form=form,
        sections=[
            (
                catalog.definitions[d],
                form[submissions_field(d)],
                form[messages_field(d)],
                form[digest_field(d)],
            )
            for d in definition_ids
        ],
    )
