"""Forms of the administrators' support tools: users, organisations, the journal."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Optional, ValidationError

from datapass.catalog import get_catalog
from datapass.models.audit import KINDS
from datapass.services.users import RoleError, parse_role
from datapass.validators import Length

# The pages show times in Paris time; the journal's dates are read the same way.
PARIS = ZoneInfo("Europe/Paris")


def reason_field(label: str, description: str) -> TextAreaField:
    return TextAreaField(
        label,
        description=description + " Il est conservé dans le journal d’administration.",
        validators=[InputRequired(message="Indiquez le motif."), Length(max=500)],
    )


class RoleGrantForm(FlaskForm):
    role = StringField(
        "Rôle à attribuer",
        description="« admin », « <type d’habilitation>:<rôle> » (rôles reporter, instructor, "
        "manager, developer), par exemple « api_particulier:instructor », ou "
        "« editor:<éditeur> ».",
        validators=[InputRequired(message="Indiquez le rôle."), Length(max=120)],
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )
    reason = reason_field("Motif de l’attribution", "Pourquoi ce rôle est attribué.")

    def validate_role(self, field):
        catalog = get_catalog()
        try:
            field.data = parse_role(field.data, set(catalog.definitions), set(catalog.editors))
        except RoleError as error:
            raise ValidationError(
                "Ce rôle n’existe pas. Par exemple «\u00a0api_particulier:instructor\u00a0»."
            ) from error


class RoleRevocationForm(FlaskForm):
    role = SelectField("Rôle à retirer", choices=[], validate_choice=False)
    reason = reason_field("Motif du retrait", "Pourquoi ce rôle est retiré.")

    def __init__(self, *args, roles=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.role.choices = [SelectChoice(role, role) for role in sorted(roles)]

    def validate_role(self, field):
        if field.data not in {choice.value for choice in self.role.choices}:
            raise ValidationError("Choisissez un rôle de la liste.")


class BanForm(FlaskForm):
    reason = reason_field(
        "Motif de la suspension",
        "Ses sessions prennent fin aussitôt et la connexion lui est refusée.",
    )


class UnbanForm(FlaskForm):
    reason = reason_field("Motif de la réactivation", "La personne pourra se connecter.")


class ImpersonationForm(FlaskForm):
    reason = reason_field(
        "Motif de la connexion en tant que cette personne",
        "Par exemple le numéro du ticket de support.",
    )


class OrganizationTransferForm(FlaskForm):
    request_id = SelectField("Demande à transférer", choices=[], validate_choice=False)
    siret = StringField(
        "SIRET de l’organisation de destination",
        description="14 chiffres.",
        validators=[InputRequired(message="Indiquez le SIRET de destination.")],
        render_kw={"autocomplete": "off", "inputmode": "numeric"},
    )
    email = StringField(
        "Adresse électronique du nouveau demandeur",
        description="Un membre vérifié de l’organisation de destination.",
        validators=[InputRequired(message="Indiquez l’adresse du nouveau demandeur.")],
        render_kw={"type": "email", "autocomplete": "off", "spellcheck": "false"},
    )
    reason = reason_field("Motif du transfert", "Pourquoi la demande change d’organisation.")

    def __init__(self, *args, authorization_requests=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.request_id.choices = [
            SelectChoice(str(r.id), f"{r.public_reference} – {r.intitule or 'sans intitulé'}")
            for r in authorization_requests
        ]

    def validate_request_id(self, field):
        if field.data not in {choice.value for choice in self.request_id.choices}:
            raise ValidationError("Choisissez une demande de l’organisation.")


class JournalFilterForm(FlaskForm):
    """The journal's filters (GET: no CSRF)."""

    class Meta:
        csrf = False

    kind = SelectField(
        "Type d’action",
        choices=[SelectChoice("", "Toutes")] + [SelectChoice(k, v) for k, v in KINDS.items()],
        validators=[Optional()],
    )
    actor = StringField(
        "Adresse de la personne qui a agi",
        validators=[Optional(), Length(max=320)],
        render_kw={"type": "email", "autocomplete": "off", "spellcheck": "false"},
    )
    since = DateField("Depuis le", validators=[Optional()])
    until = DateField("Jusqu’au (inclus)", validators=[Optional()])

    def validate_until(self, field):
        if field.data and self.since.data and field.data < self.since.data:
            raise ValidationError("La date de fin doit suivre la date de début.")

    def bounds(self) -> tuple[datetime | None, datetime | None]:
        """The dates as instants, in Paris time (as the pages show them): from the start
        of ``since`` to the end of ``until``."""
        zone = PARIS
        since = datetime.combine(self.since.data, time(), zone) if self.since.data else None
        until = None
        if self.until.data:
            until = datetime.combine(self.until.data + timedelta(days=1), time(), zone)
        return since, until
