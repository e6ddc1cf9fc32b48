"""The instructor's « Préparer une demande » form (the answers are cleaned by the blocks)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from datapass import validators as v
from datapass.blocks.scopes import ScopesForm
from datapass.siret import InvalidSiret, validate_siret


def _siret(form, field) -> None:
    try:
        field.data = validate_siret(field.data)
    except InvalidSiret as exc:
        raise ValidationError(exc.message) from exc


def _email(form, field) -> None:
    try:
        field.data = v.normalize_email(field.data or "")
    except v.ValidationError as exc:  # a UserError: said next to the field instead
        raise ValidationError(exc.message) from exc


class InvitationForm(FlaskForm):
    siret = StringField(
        "SIRET de l’organisation",
        description="14 chiffres, par exemple 269 200 234 00012",
        validators=[InputRequired(message="Saisissez un numéro SIRET."), _siret],
    )
    email = StringField(
        "Adresse électronique du futur demandeur",
        description="Seule la personne connectée avec cette adresse pourra reprendre la demande.",
        validators=[
            InputRequired(message="Indiquez une adresse électronique."),
            Length(max=255),
            v.single_line,
            _email,
        ],
    )
    intitule = StringField("Nom du projet", validators=[Optional(), Length(max=255), v.single_line])
    description = TextAreaField("Description du projet", validators=[Optional(), Length(max=10000)])
    scopes = ScopesForm.scopes  # the wizard's field; its choices are the démarche's
    note = TextAreaField(
        "Note pour le futur demandeur",
        description="Reprise dans le courriel d’invitation et dans l’historique de la demande.",
        validators=[Optional(), Length(max=2000)],
    )
