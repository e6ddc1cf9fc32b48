"""Forms of the administration pages."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length

from datapass.catalog import get_catalog


class ClientForm(FlaskForm):
    name = StringField(
        "Nom du fournisseur de données",
        description="Par exemple « API Particulier (production) ».",
        validators=[InputRequired(message="Indiquez un nom."), Length(max=255)],
    )
    definition_id = SelectField(
        "Type d’habilitation",
        description="Le client ne voit que les jetons des habilitations de ce type.",
        choices=[],
        validators=[InputRequired(message="Choisissez le type d’habilitation.")],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        definitions = get_catalog().definitions.values()
        self.definition_id.choices = [SelectChoice(d.id, d.name) for d in definitions]


class MembershipVerificationForm(FlaskForm):
    reason = TextAreaField(
        "Motif de la vérification",
        description="Comment vous avez vérifié que cette personne agit pour l’organisation "
        "(par exemple, un appel au standard de la mairie le 3 mars). Il est conservé.",
        validators=[
            InputRequired(message="Indiquez le motif de la vérification."),
            Length(max=500),
        ],
    )
