"""Forms of the developers' pages: webhooks and API applications."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from datapass.api.oauth import API_SCOPES
from datapass.models.webhook_endpoint import EVENT_LABELS
from datapass.services.webhook_delivery import WebhookUrlError, check_url
from datapass.validators import Length


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
            field.data = check_url(field.data)
        except WebhookUrlError as error:
            raise ValidationError(error.message) from error


class ApplicationForm(FlaskForm):
    name = StringField(
        "Nom de l’application",
        description="Par exemple « Connecteur Millésime – production ».",
        validators=[InputRequired(message="Indiquez un nom."), Length(max=255)],
    )
    scopes = SelectMultipleField(
        "Portées",
        choices=[SelectChoice(value, label) for value, label in API_SCOPES.items()],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
        validators=[InputRequired(message="Cochez au moins une portée.")],
    )
