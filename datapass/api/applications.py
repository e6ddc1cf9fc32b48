"""Developers' applications (OAuth 2 clients of ``/api/v1``) and the API documentation page."""

from __future__ import annotations

import yaml
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
from wtforms import SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from datapass.api.oauth import API_SCOPES
from datapass.api.v1 import OPENAPI_PATH
from datapass.extensions import db
from datapass.models import ApiClient
from datapass.models.base import utcnow
from datapass.services import tokens

bp = Blueprint("api_applications", __name__, url_prefix="/developpeurs")


class ApplicationForm(FlaskForm):
    name = StringField(
        "Nom de l’application",
        description="Par exemple « Connecteur Millésime – production ».",
        validators=[InputRequired(message="Indiquez un nom."), Length(max=255)],
    )
    scopes = SelectMultipleField(
        "Portées",
        choices=[SelectChoice(value, label) for value, label in API_SCOPES.items()],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
        validators=[InputRequired(message="Cochez au moins une portée.")],
    )


def _developer_or_403() -> None:
    if not (current_user.is_admin or current_user.definitions_with_role("developer")):
        abort(403)


@bp.route("/applications", methods=["GET", "POST"])
@login_required
def applications():
    _developer_or_403()
    form = ApplicationForm()
    created = secret = None
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            created, secret = tokens.create_client(
                form.name.data, kind="developer", owner=current_user
            )
            created.scopes = list(form.scopes.data)
            db.session.commit()
            form = ApplicationForm(formdata=None)
        else:
            status = 422
    rows = db.session.scalars(
        select(ApiClient)
        .where(ApiClient.kind == "developer", ApiClient.owner_id == current_user.id)
        .order_by(ApiClient.id.desc())
    ).all()
    response = make_response(
        render_template(
            "api/applications.html",
            form=form,
            rows=rows,
            created=created,
            secret=secret,
            scopes=API_SCOPES,
            action_form=FlaskForm(),
        ),
        status,
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/applications/<int:client_id>/revoquer")
@login_required
def revoke(client_id: int):
    _developer_or_403()
    if not FlaskForm().validate_on_submit():
        abort(400)
    client = db.session.get(ApiClient, client_id)
    if client is None or client.kind != "developer" or client.owner_id != current_user.id:
        abort(404)
    client.revoked_at = client.revoked_at or utcnow()
    db.session.commit()
    flash(f"L’application « {client.name} » est révoquée.", "success")
    return redirect(url_for("api_applications.applications"))


@bp.get("/documentation")
def documentation():
    spec = yaml.safe_load(OPENAPI_PATH.read_text())
    operations = [
        (method.upper(), path, operation)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method in ("get", "post", "patch", "put", "delete")
    ]
    return render_template("api/documentation.html", spec=spec, operations=operations)
