"""Developers' webhooks: create, edit, test, enable, rotate the secret, read the attempts."""

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
from wtforms import SelectField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from datapass.catalog import get_catalog
from datapass.extensions import db
from datapass.models.webhook_endpoint import WEBHOOK_EVENTS, Webhook, WebhookAttempt
from datapass.services import webhook_delivery as delivery

bp = Blueprint("webhooks", __name__, url_prefix="/developpeurs/webhooks")
PAGE_SIZE = 50
EVENT_LABELS = {
    "create": "Création (create)",
    "update": "Mise à jour (update)",
    "submit": "Soumission (submit)",
    "approve": "Validation (approve)",
    "refuse": "Refus (refuse)",
    "request_changes": "Demande de modifications (request_changes)",
    "revoke": "Révocation (revoke)",
    "archive": "Suppression (archive)",
    "reopen": "Réouverture (reopen)",
    "cancel_reopening": "Annulation de réouverture (cancel_reopening)",
    "transfer": "Transfert (transfer)",
}


class WebhookForm(FlaskForm):
    url = StringField(
        "URL",
        description="Adresse qui recevra les appels POST, par exemple "
        "https://api.exemple.fr/datapass/webhook.",
        validators=[InputRequired(message="Indiquez l’adresse du webhook."), Length(max=2000)],
        render_kw={"type": "url", "spellcheck": "false"},
    )
    definition = SelectField("Démarche", choices=[], validate_choice=True)
    events = SelectMultipleField(
        "Événements",
        choices=[SelectChoice(value, label) for value, label in EVENT_LABELS.items()],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
        validators=[InputRequired(message="Cochez au moins un événement.")],
    )

    def validate_url(self, field):
        try:
            field.data = delivery.check_url(field.data)
        except delivery.WebhookUrlError as error:
            from wtforms.validators import ValidationError

            raise ValidationError(error.message) from error


def _definitions() -> list[str]:
    definitions = get_catalog().definitions
    if current_user.is_admin:
        return list(definitions)
    return sorted(d for d in current_user.definitions_with_role("developer") if d in definitions)


def _definitions_or_403() -> list[str]:
    definitions = _definitions()
    if not definitions:
        abort(403)
    return definitions


def _own(webhook_id: int) -> Webhook:
    webhook = db.session.get(Webhook, webhook_id)
    if webhook is None or webhook.definition_id not in _definitions():
        abort(404)
    return webhook


def _form(definitions, **kwargs) -> WebhookForm:
    form = WebhookForm(**kwargs)
    catalog = get_catalog()
    form.definition.choices = [SelectChoice(d, catalog.definitions[d].name) for d in definitions]
    return form


def _no_store(response):
    response = make_response(response)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("")
@login_required
def index():
    definitions = _definitions_or_403()
    rows = db.session.scalars(
        select(Webhook).where(Webhook.definition_id.in_(definitions)).order_by(Webhook.id)
    ).all()
    return render_template("webhooks/index.html", rows=rows, action_form=FlaskForm())


@bp.route("/nouveau", methods=["GET", "POST"])
@login_required
def new():
    definitions = _definitions_or_403()
    form = _form(definitions)
    if request.method == "GET":
        form.definition.data = definitions[0]
        form.events.data = list(WEBHOOK_EVENTS)
    if form.validate_on_submit():
        secret = delivery.new_secret()
        webhook = Webhook(
            definition_id=form.definition.data,
            url=form.url.data,
            events=[e for e in WEBHOOK_EVENTS if e in form.events.data],
            sealed_secret=delivery.seal(secret),
            created_by_id=current_user.id,
        )
        db.session.add(webhook)
        db.session.commit()
        attempt = delivery.ping(webhook)
        return _no_store(
            render_template(
                "webhooks/created.html",
                webhook=webhook,
                secret=secret,
                attempt=attempt,
                action_form=FlaskForm(),
            )
        )
    status = 422 if request.method == "POST" else 200
    return render_template("webhooks/form.html", form=form, webhook=None), status


@bp.route("/<int:webhook_id>/modifier", methods=["GET", "POST"])
@login_required
def edit(webhook_id: int):
    definitions = _definitions_or_403()
    webhook = _own(webhook_id)
    form = _form(definitions, obj=None)
    if request.method == "GET":
        form.url.data, form.definition.data = webhook.url, webhook.definition_id
        form.events.data = list(webhook.events or [])
    if form.validate_on_submit():
        url_changed = form.url.data != webhook.url
        webhook.url = form.url.data
        webhook.definition_id = form.definition.data
        webhook.events = [e for e in WEBHOOK_EVENTS if e in form.events.data]
        # Any change disables the webhook until it is tested and enabled again.
        webhook.enabled = False
        webhook.validated = False
        db.session.commit()
        if url_changed:
            attempt = delivery.ping(webhook)
            flash(_ping_message(attempt), "success" if attempt.success else "error")
        else:
            flash("Le webhook est modifié et désactivé : testez-le puis activez-le.", "info")
        return redirect(url_for("webhooks.index"))
    status = 422 if request.method == "POST" else 200
    return render_template("webhooks/form.html", form=form, webhook=webhook), status


def _ping_message(attempt: WebhookAttempt) -> str:
    if attempt.success:
        return f"Test réussi (réponse {attempt.status_code}) : vous pouvez activer le webhook."
    answer = attempt.status_code or attempt.error
    return f"Le test a échoué ({answer}) : le webhook ne peut pas être activé."


def _post_action(webhook_id: int) -> Webhook:
    _definitions_or_403()
    webhook = _own(webhook_id)
    if not FlaskForm().validate_on_submit():
        abort(400)
    return webhook


@bp.post("/<int:webhook_id>/tester")
@login_required
def test(webhook_id: int):
    attempt = delivery.ping(_post_action(webhook_id))
    flash(_ping_message(attempt), "success" if attempt.success else "error")
    return redirect(url_for("webhooks.index"))


@bp.post("/<int:webhook_id>/activer")
@login_required
def enable(webhook_id: int):
    webhook = _post_action(webhook_id)
    if not webhook.validated:
        flash("Testez le webhook avec succès avant de l’activer.", "error")
    else:
        webhook.enabled = True
        webhook.consecutive_failures = 0
        webhook.first_failure_at = None
        webhook.disabled_reason = None
        db.session.commit()
        flash("Le webhook est activé.", "success")
    return redirect(url_for("webhooks.index"))


@bp.post("/<int:webhook_id>/desactiver")
@login_required
def disable(webhook_id: int):
    webhook = _post_action(webhook_id)
    webhook.enabled = False
    db.session.commit()
    flash("Le webhook est désactivé.", "success")
    return redirect(url_for("webhooks.index"))


@bp.post("/<int:webhook_id>/secret")
@login_required
def regenerate_secret(webhook_id: int):
    webhook = _post_action(webhook_id)
    secret = delivery.new_secret()
    webhook.sealed_secret = delivery.seal(secret)
    webhook.enabled = False
    webhook.validated = False
    db.session.commit()
    attempt = delivery.ping(webhook)
    return _no_store(
        render_template(
            "webhooks/created.html",
            webhook=webhook,
            secret=secret,
            attempt=attempt,
            action_form=FlaskForm(),
            regenerated=True,
        )
    )


@bp.get("/<int:webhook_id>/tentatives")
@login_required
def attempts(webhook_id: int):
    _definitions_or_403()
    webhook = _own(webhook_id)
    before = request.args.get("avant", type=int)
    query = select(WebhookAttempt).where(WebhookAttempt.webhook_id == webhook.id)
    if before:
        query = query.where(WebhookAttempt.id < before)
    rows = db.session.scalars(query.order_by(WebhookAttempt.id.desc()).limit(PAGE_SIZE + 1)).all()
    return render_template(
        "webhooks/attempts.html",
        webhook=webhook,
        rows=rows[:PAGE_SIZE],
        next_before=rows[PAGE_SIZE - 1].id if len(rows) > PAGE_SIZE else None,
        action_form=FlaskForm(),
    )


@bp.post("/<int:webhook_id>/tentatives/<int:attempt_id>/rejouer")
@login_required
def replay(webhook_id: int, attempt_id: int):
    webhook = _post_action(webhook_id)
    attempt = db.session.get(WebhookAttempt, attempt_id)
    if attempt is None or attempt.webhook_id != webhook.id:
        abort(404)
    delivery.replay(attempt)
    flash("L’appel sera rejoué dans un instant.", "success")
    return redirect(url_for("webhooks.attempts", webhook_id=webhook.id))
