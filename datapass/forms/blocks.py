"""One WTForms class per block of a démarche; a wizard step form is composed from them.

Answers are stored as the strings (and lists) that were typed, so that « Enregistrer »
keeps a half-filled step; validation runs by feeding stored answers back to these forms.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import Form, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional, Regexp, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from datapass import validators as v

REQUIRED = "Ce champ est obligatoire."


def _required(message: str = REQUIRED):
    return InputRequired(message=message)


def _wrap(check):
    """Turn one of our validators into a WTForms validator that normalises the value."""

    def validator(form, field):
        if field.data:
            try:
                field.data = check(field.data)
            except v.ValidationError as error:
                raise ValidationError(error.message) from error

    return validator


class BasicInfosForm(Form):
    intitule = StringField(
        "Nom du projet",
        description="Ce nom sera public : il figure dans la liste des habilitations délivrées.",
        validators=[_required("Indiquez le nom du projet."), Length(max=255)],
    )
    description = TextAreaField(
        "Description du projet",
        description="À quoi serviront les données, pour quelles démarches et quels usagers.",
        validators=[_required("Décrivez le projet."), Length(max=10000)],
    )
    date_prevue_mise_en_production = StringField(
        "Date prévue de mise en production",
        description="Format attendu : JJ/MM/AAAA.",
        validators=[
            Optional(),
            Regexp(
                r"^\d{4}-\d{2}-\d{2}$",
                message="Saisissez une date valide, par exemple 31/12/2026.",
            ),
        ],
        render_kw={"type": "date"},
    )
    volumetrie_approximative = StringField(
        "Volumétrie approximative",
        description="Nombre d’appels à l’API attendus, par exemple « 200 par jour ».",
        validators=[Optional(), Length(max=255)],
    )


class LegalForm(Form):
    cadre_juridique_nature = TextAreaField(
        "Précisez la nature et les références du texte vous autorisant à traiter les données",
        description="Par exemple : délibération du conseil d’administration du CCAS du "
        "12 octobre 2023 ; article L. 114-8 du code des relations entre le public et "
        "l’administration.",
        validators=[_required("Indiquez le texte qui vous autorise à traiter ces données.")],
    )
    cadre_juridique_url = StringField(
        "URL du texte",
        description="Adresse web où le texte est publié, par exemple sur Légifrance ou sur le "
        "site de votre collectivité.",
        validators=[Optional(), _wrap(v.validate_url)],
        render_kw={"type": "url"},
    )


class PersonalDataForm(Form):
    destinataire_donnees_caractere_personnel = TextAreaField(
        "Destinataires des données",
        description="Qui aura accès aux données, par exemple « les agents instructeurs des "
        "demandes d’aides sociales du CCAS ».",
        validators=[_required("Indiquez les destinataires des données.")],
    )
    duree_conservation_donnees_caractere_personnel = StringField(
        "Durée de conservation des données (en mois)",
        description="Nombre entier de mois. Au-delà de 36 mois, une justification est demandée.",
        validators=[
            _required("Indiquez la durée de conservation des données."),
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


class ScopesForm(Form):
    scopes = SelectMultipleField(
        "Les données",
        choices=[],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
        validate_choice=True,
    )

    def validate_scopes(self, field):
        if not field.data:
            raise ValidationError("Cochez au moins une donnée.")


CONTACT_FIELDS = (
    ("family_name", "Nom", "family-name"),
    ("given_name", "Prénom", "given-name"),
    ("email", "Email", "email"),
    ("phone_number", "Téléphone", "tel"),
    ("job_title", "Fonction", "organization-title"),
)


def contacts_form_class(contact_types: Iterable[str]) -> type[Form]:
    """A form with the five fields of every contact type of the definition."""
    from datapass.catalog.blocks import CONTACT_TYPES

    attributes = {}
    for contact in contact_types:
        who = CONTACT_TYPES.get(contact, contact)
        for suffix, label, autocomplete in CONTACT_FIELDS:
            checks = [_required(f"Indiquez le champ « {label} » du contact « {who} ».")]
            if suffix == "email":
                checks.append(_wrap(v.normalize_email))
            elif suffix == "phone_number":
                checks.append(_wrap(v.validate_french_phone))
            else:
                checks.append(Length(max=255))
            attributes[f"{contact}_{suffix}"] = StringField(
                label,
                validators=checks,
                render_kw={"autocomplete": autocomplete}
                | ({"type": "email"} if suffix == "email" else {})
                | ({"type": "tel"} if suffix == "phone_number" else {}),
            )
    return type("ContactsForm", (Form,), attributes)


BLOCK_FORMS: dict[str, type[Form]] = {
    "basic_infos": BasicInfosForm,
    "legal": LegalForm,
    "personal_data": PersonalDataForm,
    "scopes": ScopesForm,
}


def step_form_class(block_form: type[Form]) -> type[FlaskForm]:
    """The block's fields plus CSRF protection: what a wizard step posts."""
    return type(f"{block_form.__name__}Step", (FlaskForm, block_form), {})


def answers_as_formdata(answers: Mapping) -> MultiDict:
    """Stored answers as submitted form data, to validate them again later."""
    data = MultiDict()
    for key, value in answers.items():
        if isinstance(value, list):
            for item in value:
                data.add(key, item)
        elif value is not None:
            data.add(key, str(value))
    return data
