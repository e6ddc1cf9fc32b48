"""Administration: the outbox's dead (and failing) jobs, with replay."""

from __future__ import annotations

from flask import (
    Blueprint,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import login_required
from flask_wtf import FlaskForm
from sqlalchemy import select

from datapass import outbox
from datapass.extensions import db
from datapass.forms.admin import ClientForm
from datapass.models import ApiClient, OutboxJob
from datapass.models.outbox import JOB_DEAD, JOB_PENDING
from datapass.permissions import admin_required
from datapass.services import tokens
from datapass.views import check_action_form

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
            created, secret = tokens.create_client(form.name.data)
            form = ClientForm(formdata=None)
        else:
            status = 422
    rows = db.session.scalars(select(ApiClient).order_by(ApiClient.id.desc()).limit(200)).all()
    response = make_response(
        render_template(
            "admin/clients.html",
            form=form,
            rows=rows,
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
