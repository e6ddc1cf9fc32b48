"""Forms of the instruction pages (decisions, messages, transfer)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired

from datapass.validators import Length

DECISIONS = {
    "approve": ("Valider", "Valider la demande", "Message au demandeur (facultatif)"),
    "request_changes": (
        "Demander des modifications",
        "Demander des modifications",
        "Modifications demandées",
    ),
    "refuse": ("Refuser", "Refuser la demande", "Motif du refus"),
    "revoke": ("Révoquer", "Révoquer l’habilitation", "Motif de la révocation"),
    "archive": ("Supprimer", "Supprimer la demande", "Motif (facultatif)"),
    "cancel_reopening": (
        "Annuler la réouverture",
        "Annuler la réouverture",
        "Motif de l’annulation",
    ),
}


class DecisionForm(FlaskForm):
    version = HiddenField()
    reason = TextAreaField("Message", validators=[Length(max=10000)])
    template = SelectField("Modèle de message", choices=[], validate_choice=False)
    # Shown (and required by the decisions service) when approving a request whose applicant
    # is not a verified member of its organisation.
    membership_checked = BooleanField(
        "J’ai vérifié que le demandeur agit pour cette organisation",
        description="Par exemple auprès de l’organisation, par un courriel ou un appel à un "
        "numéro trouvé dans l’annuaire. L’organisation du demandeur sera alors vérifiée.",
    )


class InstructorMessageForm(FlaskForm):
    body = TextAreaField(
        "Votre message au demandeur",
        validators=[InputRequired(message="Écrivez votre message."), Length(max=10000)],
    )


class InstructorTransferForm(FlaskForm):
    version = HiddenField()
    email = StringField(
        "Adresse électronique du nouveau demandeur",
        description="Un membre vérifié de l’organisation de la demande.",
        validators=[InputRequired(message="Indiquez une adresse électronique.")],
        render_kw={"type": "email", "autocomplete": "off"},
    )
