"""Administration: the outbox's dead (and failing) jobs, with replay."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import login_required
from flask_wtf import FlaskForm
from sqlalchemy import select

from datapass import outbox
from datapass.extensions import db
from datapass.models import OutboxJob
from datapass.permissions import admin_required

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/taches")
@login_required
@admin_required
def jobs():
    dead = db.session.scalars(
        select(OutboxJob).where(OutboxJob.state == "dead").order_by(OutboxJob.id.desc()).limit(100)
    ).all()
    failing = db.session.scalars(
        select(OutboxJob)
        .where(OutboxJob.state == "pending", OutboxJob.attempts > 0)
        .order_by(OutboxJob.id.desc())
        .limit(100)
    ).all()
    return render_template("admin/jobs.html", dead=dead, failing=failing, form=FlaskForm())


@bp.post("/taches/<int:job_id>/rejouer")
@login_required
@admin_required
def replay(job_id: int):
    if not FlaskForm().validate_on_submit():
        abort(400)
    job = db.session.get(OutboxJob, job_id)
    if job is None:
        abort(404)
    outbox.replay(job)
    flash(f"La tâche {job.id} sera exécutée de nouveau.", "success")
    return redirect(url_for("admin.jobs"))
