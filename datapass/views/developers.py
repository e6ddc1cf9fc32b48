"""The developers' space: webhooks, API applications, and the API documentation page.

Every page but the documentation needs the developer role on a definition of the catalogue
(or admin): ``permissions.developer_definitions``. The rules are services'
(``services/webhooks.py``, ``services/tokens.py``).
"""

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
from wtforms.fields.choices import SelectChoice

from datapass import rate_limits
from datapass.api.oauth import API_SCOPES
from datapass.api.v1 import OPENAPI_PATH
from datapass.catalog import get_catalog
from datapass.extensions import db
from datapass.forms.developers import ApplicationForm, WebhookForm
from datapass.models import ApiClient
from datapass.models.token import CLIENT_DEVELOPER
from datapass.models.webhook_endpoint import WEBHOOK_EVENTS, Webhook
from datapass.permissions import developer_definitions
from datapass.services import tokens, webhooks
from datapass.views import check_action_form, int_arg

bp = Blueprint("developers", __name__, url_prefix="/developpeurs")


def _definitions_or_403() -> list[str]:
    definitions = developer_definitions(current_user)
    if not definitions:
        abort(403)
    return definitions


def _no_store(response, status: int = 200):
    response = make_response(response, status)
    response.headers["Cache-Control"] = "no-store"
    return response


def _csrf_or_400() -> None:
    check_action_form()


# ---------------------------------------------------------------- webhooks


def _own_webhook(webhook_id: int) -> Webhook:
    """The webhook, on one of the user's definitions (else 404; 403 without any)."""
    definitions = _definitions_or_403()
    webhook = db.session.get(Webhook, webhook_id)
    if webhook is None or webhook.definition_id not in definitions:
        abort(404)
    return webhook


def _webhook_action(webhook_id: int) -> Webhook:
    webhook = _own_webhook(webhook_id)
    _csrf_or_400()
    return webhook


def _webhook_form(definitions, **kwargs) -> WebhookForm:
    form = WebhookForm(**kwargs)
    catalog = get_catalog()
    form.definition.choices = [SelectChoice(d, catalog.definitions[d].name) for d in definitions]
    return form


PING_QUEUED = (
    "L’appel de test part dans quelques secondes : son résultat s’affichera dans "
    "l’historique des appels, et le webhook pourra être activé s’il réussit."
)


def _secret_page(webhook: Webhook, secret: str, **context):
    return _no_store(
        render_template(
            "developers/webhook_created.html",
            webhook=webhook,
            secret=secret,
            ping_queued=PING_QUEUED,
            **context,
        )
    )


@bp.get("/webhooks")
@login_required
def webhooks_index():
    rows = webhooks.webhooks_of(_definitions_or_403())
    return render_template("developers/webhooks.html", rows=rows, action_form=FlaskForm())


@bp.route("/webhooks/nouveau", methods=["GET", "POST"])
@login_required
@rate_limits.webhook_pings
def new_webhook():
    definitions = _definitions_or_403()
    form = _webhook_form(definitions)
    if request.method == "GET":
        form.definition.data = definitions[0]
        form.events.data = list(WEBHOOK_EVENTS)
    if form.validate_on_submit():
        webhook, secret = webhooks.create(
            definition_id=form.definition.data,
            url=form.url.data,
            events=form.events.data,
            created_by=current_user,
        )
        return _secret_page(webhook, secret)
    status = 422 if request.method == "POST" else 200
    return render_template("developers/webhook_form.html", form=form, webhook=None), status


@bp.route("/webhooks/<int:webhook_id>/modifier", methods=["GET", "POST"])
@login_required
@rate_limits.webhook_pings
def edit_webhook(webhook_id: int):
    webhook = _own_webhook(webhook_id)
    form = _webhook_form(developer_definitions(current_user))
    if request.method == "GET":
        form.url.data, form.definition.data = webhook.url, webhook.definition_id
        form.events.data = list(webhook.events or [])
    if form.validate_on_submit():
        pinged = webhooks.edit(
            webhook, definition_id=form.definition.data, url=form.url.data, events=form.events.data
        )
        if pinged:
            flash(f"Le webhook est modifié et désactivé. {PING_QUEUED}", "info")
        else:
            flash("Le webhook est modifié et désactivé : testez-le puis activez-le.", "info")
        return redirect(url_for("developers.webhooks_index"))
    status = 422 if request.method == "POST" else 200
    return render_template("developers/webhook_form.html", form=form, webhook=webhook), status


@bp.post("/webhooks/<int:webhook_id>/tester")
@login_required
@rate_limits.webhook_pings
def test_webhook(webhook_id: int):
    webhooks.ping(_webhook_action(webhook_id))
    flash(PING_QUEUED, "info")
    return redirect(url_for("developers.webhooks_index"))


@bp.post("/webhooks/<int:webhook_id>/activer")
@login_required
def enable_webhook(webhook_id: int):
    webhook = _webhook_action(webhook_id)
    try:
        webhooks.enable(webhook)
    except webhooks.WebhookError as error:
        flash(error.message, "error")
    else:
        flash("Le webhook est activé.", "success")
    return redirect(url_for("developers.webhooks_index"))


@bp.post("/webhooks/<int:webhook_id>/desactiver")
@login_required
def disable_webhook(webhook_id: int):
    webhooks.disable(_webhook_action(webhook_id))
    flash("Le webhook est désactivé.", "success")
    return redirect(url_for("developers.webhooks_index"))


@bp.post("/webhooks/<int:webhook_id>/secret")
@login_required
@rate_limits.webhook_pings
def regenerate_webhook_secret(webhook_id: int):
    webhook = _webhook_action(webhook_id)
    secret = webhooks.regenerate_secret(webhook)
    return _secret_page(webhook, secret, regenerated=True)


@bp.get("/webhooks/<int:webhook_id>/tentatives")
@login_required
def webhook_attempts(webhook_id: int):
    webhook = _own_webhook(webhook_id)
    rows, next_before = webhooks.attempts_page(webhook, before=int_arg("avant"))
    return render_template(
        "developers/webhook_attempts.html",
        webhook=webhook,
        rows=rows,
        next_before=next_before,
        action_form=FlaskForm(),
    )


@bp.post("/webhooks/<int:webhook_id>/tentatives/<int:attempt_id>/rejouer")
@login_required
def replay_webhook_attempt(webhook_id: int, attempt_id: int):
    webhook = _webhook_action(webhook_id)
    attempt = webhooks.attempt_of(webhook, attempt_id)
    if attempt is None:
        abort(404)
    webhooks.replay(attempt)
    flash("L’appel sera rejoué dans un instant.", "success")
    return redirect(url_for("developers.webhook_attempts", webhook_id=webhook.id))


# ---------------------------------------------------------------- API applications


@bp.route("/applications", methods=["GET", "POST"])
@login_required
def applications():
    _definitions_or_403()
    form = ApplicationForm()
    created = secret = None
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            created, secret = tokens.create_client(
                form.name.data, kind=CLIENT_DEVELOPER, owner=current_user, scopes=form.scopes.data
            )
            form = ApplicationForm(formdata=None)
        else:
            status = 422
    return _no_store(
        render_template(
            "developers/applications.html",
            form=form,
            rows=tokens.developer_clients(current_user),
            created=created,
            secret=secret,
            scopes=API_SCOPES,
            action_form=FlaskForm(),
        ),
        status,
    )


@bp.post("/applications/<int:client_id>/revoquer")
@login_required
def revoke_application(client_id: int):
    _definitions_or_403()
    _csrf_or_400()
    client = db.session.get(ApiClient, client_id)
    if client is None or client.kind != CLIENT_DEVELOPER or client.owner_id != current_user.id:
        abort(404)
    tokens.revoke_client(client)
    flash(f"L’application « {client.name} » est révoquée.", "success")
    return redirect(url_for("developers.applications"))


@bp.get("/documentation")
def documentation():
    spec = yaml.safe_load(OPENAPI_PATH.read_text())
    operations = [
        (method.upper(), path, operation)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method in ("get", "post", "patch", "put", "delete")
    ]
    return render_template("developers/documentation.html", spec=spec, operations=operations)
