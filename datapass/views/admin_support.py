"""Administrators' support tools, on the ``admin`` blueprint: users (search, roles, ban,
« Se connecter en tant que »), an organisation's page with the transfer of a request to
another organisation, and the audit log (``/admin/journal``)."""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from datapass.errors import UserError
from datapass.extensions import db
from datapass.forms.admin_support import (
    BanForm,
    ImpersonationForm,
    JournalFilterForm,
    OrganizationTransferForm,
    RoleGrantForm,
    RoleRevocationForm,
    UnbanForm,
)
from datapass.models import AuthorizationRequest, Organization, User
from datapass.permissions import admin_required
from datapass.services import audit, impersonation, organizations, support, transfers
from datapass.views import check_action_form, int_arg, show_on_field
from datapass.views.admin import bp

# ---------------------------------------------------------------- users


@bp.get("/utilisateurs")
@login_required
@admin_required
def users():
    """Search by email, name or SIRET, 25 a page (keyset)."""
    query = request.args.get("q", "")[:320]
    before = int_arg("avant")
    rows, next_before = support.search_users(query, before=before)
    return render_template(
        "admin/users.html", rows=rows, query=query, next_before=next_before, first_page=not before
    )


# The user page's forms: name in the template → (class, prefix of its fields' ids).
FORMS = {
    "grant_form": (RoleGrantForm, "grant"),
    "revoke_form": (RoleRevocationForm, "revoke"),
    "ban_form": (BanForm, "ban"),
    "unban_form": (UnbanForm, "unban"),
    "impersonation_form": (ImpersonationForm, "impersonate"),
}


def _make_form(name: str, user: User, **kwargs) -> FlaskForm:
    form_class, prefix = FORMS[name]
    if form_class is RoleRevocationForm:
        kwargs["roles"] = user.roles
    return form_class(prefix=prefix, **kwargs)


def _user_page(user: User, status: int = 200, **posted: FlaskForm):
    """The user page; the posted form as posted, the others empty."""
    forms = {name: _make_form(name, user, formdata=None) for name in FORMS}
    forms.update(posted)
    return render_template("admin/user.html", user=user, **forms), status


@bp.get("/utilisateurs/<int:user_id>")
@login_required
@admin_required
def user(user_id: int):
    return _user_page(db.get_or_404(User, user_id))


def _support_route(rule: str, endpoint: str, name: str, act, success: str, done=None) -> None:
    """A POST of the user page: validate the form ``name``, call ``act(user, form)`` (one
    service); its refusal lands next to the field it names (else flashed by the errors
    handler). ``success`` is formatted with ``user`` and ``form``; ``done(user)`` is where
    to go next (default: back to the user page)."""

    def view(user_id: int):
        user = db.get_or_404(User, user_id)
        form = _make_form(name, user)
        if form.validate_on_submit():
            try:
                act(user, form)
            except UserError as error:
                show_on_field(form, error)
            else:
                flash(success.format(user=user, form=form), "success")
                return redirect(done(user) if done else url_for("admin.user", user_id=user.id))
        return _user_page(user, 422, **{name: form})

    view.__name__ = endpoint
    bp.add_url_rule(rule, endpoint, login_required(admin_required(view)), methods=["POST"])


def _change_role(grant: bool):
    return lambda user, form: support.change_role(
        user, form.role.data, grant=grant, admin=current_user, reason=form.reason.data
    )


_support_route(
    "/utilisateurs/<int:user_id>/roles",
    "grant_role",
    "grant_form",
    _change_role(grant=True),
    "Le rôle « {form.role.data} » est attribué à {user.email}.",
)
_support_route(
    "/utilisateurs/<int:user_id>/roles/retrait",
    "revoke_role",
    "revoke_form",
    _change_role(grant=False),
    "Le rôle « {form.role.data} » est retiré à {user.email}.",
)
_support_route(
    "/utilisateurs/<int:user_id>/suspension",
    "ban",
    "ban_form",
    lambda user, form: support.ban(user, current_user, form.reason.data),
    "Le compte de {user.email} est suspendu\u00a0: ses sessions ont pris fin.",
)
_support_route(
    "/utilisateurs/<int:user_id>/reactivation",
    "unban",
    "unban_form",
    lambda user, form: support.unban(user, current_user, form.reason.data),
    "Le compte de {user.email} est réactivé.",
)
_support_route(
    "/utilisateurs/<int:user_id>/se-connecter-en-tant-que",
    "impersonate",
    "impersonation_form",
    lambda user, form: impersonation.start(g.user_session, user, form.reason.data),
    "Vous agissez en tant que {user.full_name}.",
    done=lambda user: url_for("applicant.dashboard_view"),
)


@bp.post("/en-tant-que/arreter")
@login_required
def stop_impersonation():
    """« Arrêter »: the administrator acts in their own name again (the signed-in user is
    the impersonated one until then: no admin check, the session must be impersonating)."""
    check_action_form()
    user_session = g.get("user_session")
    if user_session is None or user_session.impersonated_user_id is None:
        abort(403)
    target = impersonation.stop(user_session)
    flash("Vous agissez de nouveau en votre nom.", "success")
    return redirect(url_for("admin.user", user_id=target.id))


# ---------------------------------------------------------------- organisations


def _organization_page(organization: Organization, form=None, status: int = 200):
    before = int_arg("avant")
    overview = organizations.organization_overview(organization, before=before)
    form = form or OrganizationTransferForm(
        formdata=None, authorization_requests=overview.authorization_requests
    )
    return (
        render_template(
            "admin/organization.html",
            organization=organization,
            overview=overview,
            form=form,
            first_page=not before,
        ),
        status,
    )


@bp.get("/organisations/<int:organization_id>")
@login_required
@admin_required
def organization(organization_id: int):
    return _organization_page(db.get_or_404(Organization, organization_id))


@bp.post("/organisations/<int:organization_id>/transfert")
@login_required
@admin_required
def transfer_request(organization_id: int):
    """Move one of its requests (and habilitations) to another organisation, with a reason."""
    organization = db.get_or_404(Organization, organization_id)
    overview = organizations.organization_overview(organization, before=int_arg("avant"))
    form = OrganizationTransferForm(authorization_requests=overview.authorization_requests)
    if form.validate_on_submit():
        authorization_request = db.get_or_404(AuthorizationRequest, int(form.request_id.data))
        if authorization_request.organization_id != organization.id:
            abort(404)
        try:
            target = transfers.transfer_to_organization(
                authorization_request,
                current_user,
                siret=form.siret.data,
                email=form.email.data,
                reason=form.reason.data,
            )
        except UserError as error:
            show_on_field(form, error)
        else:
            flash(
                f"La demande {authorization_request.public_reference} est transférée à "
                f"{target.display_name}.",
                "success",
            )
            return redirect(url_for("admin.organization", organization_id=target.id))
    return _organization_page(organization, form, 422)


# ---------------------------------------------------------------- audit log


@bp.get("/journal")
@login_required
@admin_required
def journal():
    """Every support action, newest first, filtered by kind, actor and dates; read only."""
    form = JournalFilterForm(request.args)
    entries, next_before, status = [], None, 200
    if form.validate():
        since, until = form.bounds()
        filters = audit.JournalFilters(
            kind=form.kind.data or None,
            actor_email=form.actor.data or None,
            since=since,
            until=until,
        )
        entries, next_before = audit.journal_page(filters, before=int_arg("avant"))
    else:
        status = 422
    arguments = {k: v for k, v in request.args.items() if k != "avant" and v}
    return (
        render_template(
            "admin/journal.html",
            form=form,
            entries=entries,
            next_before=next_before,
            arguments=arguments,
            first_page=not request.args.get("avant"),
        ),
        status,
    )
