"""« Le traitement des données personnelles »: recipients and retention."""

from __future__ import annotations

from wtforms import Form, StringField, TextAreaField
from wtforms.validators import Regexp, ValidationError

from datapass.blocks.base import Block, required
from datapass.validators import Length

RETENTION = "duree_conservation_donnees_caractere_personnel"


class PersonalDataForm(Form):
    destinataire_donnees_caractere_personnel = TextAreaField(
        "Destinataires des données",
        description="Qui aura accès aux données, par exemple « les agents instructeurs des "
        "demandes d’aides sociales du CCAS ».",
        validators=[required("Indiquez les destinataires des données."), Length(max=10000)],
    )
    duree_conservation_donnees_caractere_personnel = StringField(
        "Durée de conservation des données (en mois)",
        description="Nombre entier de mois. Au-delà de 36 mois, une justification est demandée.",
        validators=[
            required("Indiquez la durée de conservation des données."),
            Regexp(r"^\d{1,4}$", message="Saisissez un nombre entier de mois, par exemple 24."),
        ],
        render_kw={"inputmode": "numeric"},
    )
    duree_conservation_donnees_caractere_personnel_justification = TextAreaField(
        "Justification de la durée",
        description="Obligatoire pour une durée supérieure à 36 mois (par exemple, les "
        "contrôles de la CAF).",
        # No Optional(): it would stop the chain before the check below.
        validators=[Length(max=10000)],
    )

    def validate_duree_conservation_donnees_caractere_personnel(self, field):
        months = int(field.data) if (field.data or "").isdigit() else None
        if months is not None and months > 1200:
            raise ValidationError("La durée de conservation ne peut pas dépasser 1 200 mois.")

    def validate_duree_conservation_donnees_caractere_personnel_justification(self, field):
        raw = self.duree_conservation_donnees_caractere_personnel.data or ""
        if raw.isdigit() and int(raw) > 36 and not (field.data or "").strip():
            raise ValidationError("Justifiez une durée de conservation supérieure à 36 mois.")


class PersonalData(Block):
    id = "personal_data"
    slug = "donnees-personnelles"
    title = "Le traitement des données personnelles"
    fields = (
        "destinataire_donnees_caractere_personnel",
        RETENTION,
        f"{RETENTION}_justification",
    )
    form_class = PersonalDataForm


BLOCK = PersonalData()
