"""Administration: the outbox's dead (and failing) jobs, with replay; introspection clients;
unverified memberships of organisations that have requests, verified with a reason; the
editors' staff (``editor:<id>``)."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select

from datapass import outbox
from datapass.catalog import get_catalog
from datapass.errors import UserError
from datapass.extensions import db
from datapass.forms.admin import (
    ClientForm,
    EditorStaffForm,
    MembershipVerificationForm,
    RevokeEditorStaffForm,
)
from datapass.models import ApiClient, Membership, OutboxJob
from datapass.models.outbox import JOB_DEAD, JOB_PENDING
from datapass.models.user import editor_role
from datapass.permissions import admin_required
from datapass.services import organizations, tokens, users
from datapass.views import check_action_form, int_arg

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/taches")
@login_required
@admin_required
def jobs():
    dead = db.session.scalars(
        select(OutboxJob)
        .where(OutboxJob.state == JOB_DEAD)
        .order_by(OutboxJob.id.desc())
        .limit(100)
    ).all()
    failing = db.session.scalars(
        select(OutboxJob)
        .where(OutboxJob.state == JOB_PENDING, OutboxJob.attempts > 0)
        .order_by(OutboxJob.id.desc())
        .limit(100)
    ).all()
    return render_template("admin/jobs.html", dead=dead, failing=failing, form=FlaskForm())


@bp.post("/taches/<int:job_id>/rejouer")
@login_required
@admin_required
def replay(job_id: int):
    check_action_form()
    job = db.get_or_404(OutboxJob, job_id)
    outbox.replay(job)
    flash(f"La tâche {job.id} sera exécutée de nouveau.", "success")
    return redirect(url_for("admin.jobs"))


@bp.route("/clients", methods=["GET", "POST"])
@login_required
@admin_required
def clients():
    """API providers' introspection clients: created here (secret shown once) or revoked."""
    form = ClientForm()
    created = secret = None
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            created, secret = tokens.create_client(
                form.name.data, definition_id=form.definition_id.data
            )
            form = ClientForm(formdata=None)
        else:
            status = 422
    response = make_response(
        render_template(
            "admin/clients.html",
            form=form,
            rows=tokens.introspection_clients(),
            definitions=get_catalog().definitions,
            created=created,
            secret=secret,
            action_form=FlaskForm(),
        ),
        status,
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/clients/<int:client_id>/revoquer")
@login_required
@admin_required
def revoke_client(client_id: int):
    check_action_form()
    client = db.get_or_404(ApiClient, client_id)
    tokens.revoke_client(client)
    flash(f"Le client {client.name} est révoqué.", "success")
    return redirect(url_for("admin.clients"))


@bp.get("/rattachements")
@login_required
@admin_required
def memberships():
    """Unverified memberships of organisations that have requests, 25 a page (keyset)."""
    after = int_arg("apres")
    rows, next_after = organizations.unverified_memberships_page(after=after)
    return render_template(
        "admin/memberships.html", rows=rows, next_after=next_after, first_page=not after
    )


@bp.route("/rattachements/<int:membership_id>", methods=["GET", "POST"])
@login_required
@admin_required
def verify_membership(membership_id: int):
    """One membership, the member's requests for that organisation, « Vérifier » with a reason."""
    membership = db.get_or_404(Membership, membership_id)
    form = MembershipVerificationForm()
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                organizations.verify_membership(membership, current_user, form.reason.data)
            except UserError as error:
                if error.field != "reason":
                    raise
                form.reason.errors = [error.message]
                status = 422
            else:
                flash(
                    f"Le rattachement de {membership.user.email} à "
                    f"{membership.organization.display_name} est vérifié.",
                    "success",
                )
                return redirect(url_for("admin.memberships"))
        else:
            status = 422
    return (
        render_template(
            "admin/membership.html",
            membership=membership,
            authorization_requests=organizations.member_requests(membership),
            form=form,
        ),
        status,
    )


# ---------------------------------------------------------------- editors' staff


def _editors() -> list:
    return sorted(get_catalog().editors.values(), key=lambda editor: editor.name)


def _render_editor_staff(form: EditorStaffForm, status: int = 200):
    editors = _editors()
    staff = users.editor_staff([editor.id for editor in editors])
    body = render_template(
        "admin/editors.html",
        form=form,
        rows=[(editor, staff[editor.id]) for editor in editors],
        revoke_form=RevokeEditorStaffForm(),
    )
    return body, status


def _editor_staff_form() -> EditorStaffForm:
    return EditorStaffForm(editors=[(editor.id, editor.name) for editor in _editors()])


@bp.get("/editeurs")
@login_required
@admin_required
def editor_staff():
    """Who is the staff of which editor (``editor:<id>``): their editor's space only."""
    return _render_editor_staff(_editor_staff_form())


@bp.post("/editeurs")
@login_required
@admin_required
def grant_editor_staff():
    form = _editor_staff_form()
    if not form.validate_on_submit():
        return _render_editor_staff(form, 422)
    editor = get_catalog().editors[form.editor.data]
    user, added = users.grant_role(form.email.data, editor_role(editor.id), actor=current_user)
    if added:
        flash(f"{user.email} fait partie de l’équipe de l’éditeur {editor.name}.", "success")
    else:
        flash(f"{user.email} faisait déjà partie de l’équipe de l’éditeur {editor.name}.", "info")
    return redirect(url_for("admin.editor_staff"))


@bp.post("/editeurs/retirer")
@login_required
@admin_required
def revoke_editor_staff():
    form = RevokeEditorStaffForm()
    editor = get_catalog().editors.get(form.editor.data or "")
    if not form.validate_on_submit() or editor is None:
        abort(400)
    email = form.email.data.strip().lower()
    if users.revoke_role(email, editor_role(editor.id), actor=current_user):
        flash(f"{email} ne fait plus partie de l’équipe de l’éditeur {editor.name}.", "success")
    else:
        flash(f"{email} ne faisait pas partie de l’équipe de l’éditeur {editor.name}.", "info")
    return redirect(url_for("admin.editor_staff"))
