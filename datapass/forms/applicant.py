"""Forms of the applicant's pages other than the wizard blocks."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField, TextAreaField
from wtforms.validators import InputRequired

from datapass.validators import Length


class SummaryForm(FlaskForm):
    terms_of_service_accepted = BooleanField(
        "J’ai lu et j’accepte les conditions générales d’utilisation"
    )
    data_protection_officer_informed = BooleanField(
        "Je confirme que le délégué à la protection des données de mon organisation est "
        "informé de ma demande"
    )


class MessageForm(FlaskForm):
    body = TextAreaField(
        "Votre message",
        description="Il est lu par les instructeurs de la demande.",
        validators=[InputRequired(message="Écrivez votre message."), Length(max=10000)],
    )


class TransferForm(FlaskForm):
    email = StringField(
        "Adresse électronique du nouveau demandeur",
        description="Un membre vérifié de l’organisation, qui s’est déjà connecté à DataPass.",
        validators=[InputRequired(message="Indiquez une adresse électronique.")],
        render_kw={"type": "email", "autocomplete": "off"},
    )


class SiretStepForm(FlaskForm):
    """« Votre organisation », the wizard's first step."""

    siret = StringField(
        "Numéro SIRET",
        description="14 chiffres, sans espace. Vous le trouvez sur l’annuaire des entreprises.",
        render_kw={"inputmode": "numeric", "autocomplete": "off"},
    )
