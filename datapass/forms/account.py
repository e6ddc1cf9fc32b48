"""Forms of the account pages."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, StringField
from wtforms.validators import InputRequired, ValidationError

from datapass.siret import InvalidSiret, validate_siret


class SignOutForm(FlaskForm):
    """An empty form: buttons that change state post it, with its CSRF token."""


class JoinOrganizationForm(FlaskForm):
    siret = StringField(
        "Numéro SIRET",
        description="14 chiffres, par exemple 26920023400012. Vous le trouverez sur "
        "annuaire-entreprises.data.gouv.fr.",
        validators=[InputRequired(message="Saisissez le numéro SIRET de votre organisation.")],
    )

    def validate_siret(self, field):
        try:
            field.data = validate_siret(field.data or "")
        except InvalidSiret as error:
            raise ValidationError(error.message) from error


class CurrentOrganizationForm(FlaskForm):
    organization_id = IntegerField(validators=[InputRequired()])
    next = HiddenField()
