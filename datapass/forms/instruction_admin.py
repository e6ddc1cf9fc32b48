"""Forms of the instruction administration: message templates, rights, notifications."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, ValidationError

from datapass import validators as v
from datapass.models.instruction import TEMPLATE_KIND_LABELS
from datapass.services.instructor_settings import TITLE_TAKEN, template_title_taken
from datapass.services.message_templates import VARIABLES, unknown_variables
from datapass.validators import Length

NBSP = "\u00a0"

# Roles a manager may grant on their definition; only admins grant « manager ».
ROLE_LABELS = {
    "reporter": "Rapporteur",
    "instructor": "Instructeur",
    "manager": "Gestionnaire",
    "developer": "Développeur",
}
MANAGER_GRANTABLE_ROLES = ("reporter", "instructor", "developer")
ADMIN_GRANTABLE_ROLES = ("reporter", "instructor", "manager", "developer")

VARIABLE_LABELS = {
    "demande_url": "l’adresse de la demande",
    "demande_intitule": "son intitulé",
    "demande_id": "son numéro",
}
CONTENT_HINT = (
    f"Variables possibles{NBSP}: "
    + ", ".join(f"%{{{name}}} ({VARIABLE_LABELS.get(name, name)})" for name in VARIABLES)
    + "."
)

SUBMISSIONS_LABEL = "Recevoir un courriel à chaque demande soumise"
MESSAGES_LABEL = "Recevoir un courriel à chaque message d’un demandeur"
DIGEST_LABEL = "Recevoir chaque lundi les demandes dont le délai de décision échoit sous 7 jours"


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class MessageTemplateForm(FlaskForm):
    title = StringField(
        "Titre",
        filters=[_strip],
        validators=[
            DataRequired(message="Indiquez le titre du modèle."),
            Length(max=255, message="Le titre ne peut pas dépasser 255 caractères."),
        ],
    )
    kind = SelectField(
        "Type de décision",
        choices=[SelectChoice(kind, label) for kind, label in TEMPLATE_KIND_LABELS.items()],
        validate_choice=False,
    )
    content = TextAreaField(
        "Texte du message",
        description=CONTENT_HINT,
        validators=[
            DataRequired(message="Écrivez le texte du message."),
            Length(max=10000, message="Le texte ne peut pas dépasser 10 000 caractères."),
        ],
    )

    def __init__(self, *args, definition_id: str, template_id: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.definition_id = definition_id
        self.template_id = template_id

    def validate_title(self, field):
        if template_title_taken(self.definition_id, field.data, exclude_id=self.template_id):
            raise ValidationError(TITLE_TAKEN)

    def validate_kind(self, field):
        if field.data not in TEMPLATE_KIND_LABELS:
            raise ValidationError("Choisissez un type de décision dans la liste.")

    def validate_content(self, field):
        unknown = unknown_variables(field.data or "")
        if unknown:
            names = ", ".join(f"%{{{name}}}" for name in unknown)
            known = ", ".join(f"%{{{name}}}" for name in VARIABLES)
            noun = "Variable inconnue" if len(unknown) == 1 else "Variables inconnues"
            raise ValidationError(f"{noun}{NBSP}: {names}. Variables possibles{NBSP}: {known}.")


class GrantRoleForm(FlaskForm):
    email = StringField(
        "Adresse électronique",
        description="Une personne qui ne s’est jamais connectée recevra le rôle à sa "
        "première connexion.",
        filters=[_strip],
        validators=[DataRequired(message="Indiquez l’adresse électronique de la personne.")],
        render_kw={"type": "email", "autocomplete": "off", "spellcheck": "false"},
    )
    role = SelectField("Rôle", choices=[], validate_choice=False)

    def __init__(self, *args, roles: Iterable[str], own_email: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.allowed_roles = tuple(roles)
        self.own_email = own_email.strip().lower()
        self.role.choices = [SelectChoice(name, ROLE_LABELS[name]) for name in self.allowed_roles]

    def validate_email(self, field):
        try:
            field.data = v.normalize_email(field.data)
        except v.ValidationError as error:
            raise ValidationError(error.message) from error
        if field.data == self.own_email:
            raise ValidationError("Vous ne pouvez pas modifier vos propres droits.")

    def validate_role(self, field):
        if field.data == "manager" and "manager" not in self.allowed_roles:
            raise ValidationError("Seuls les administrateurs attribuent le rôle de gestionnaire.")
        if field.data not in self.allowed_roles:
            raise ValidationError("Choisissez un rôle dans la liste.")


class RevokeRoleForm(FlaskForm):
    """The hidden form behind each « Retirer » button of the rights table."""

    email = HiddenField(validators=[DataRequired()])
    role = HiddenField(validators=[DataRequired()])


def submissions_field(definition_id: str) -> str:
    return f"{definition_id}__submissions"


def messages_field(definition_id: str) -> str:
    return f"{definition_id}__messages"


def digest_field(definition_id: str) -> str:
    return f"{definition_id}__digest"


def notification_settings_form(
    definition_ids: Iterable[str],
    current: Mapping[str, tuple[bool, bool]],
    digests: Mapping[str, bool] | None = None,
) -> FlaskForm:
    """Three checkboxes per definition, pre-checked from ``current`` and ``digests``."""
    definition_ids = list(definition_ids)
    attributes = {}
    for definition_id in definition_ids:
        submissions, messages = current.get(definition_id, (True, True))
        attributes[submissions_field(definition_id)] = BooleanField(
            SUBMISSIONS_LABEL, default=submissions
        )
        attributes[messages_field(definition_id)] = BooleanField(MESSAGES_LABEL, default=messages)
        attributes[digest_field(definition_id)] = BooleanField(
            DIGEST_LABEL, default=(digests or {}).get(definition_id, True)
        )
    form_class = type("NotificationSettingsForm", (FlaskForm,), attributes)
    form = form_class()
    form.definition_ids = definition_ids
    return form


def notification_choices(form: FlaskForm) -> dict[str, tuple[bool, bool]]:
    return {
        definition_id: (
            bool(form[submissions_field(definition_id)].data),
            bool(form[messages_field(definition_id)].data),
        )
        for definition_id in form.definition_ids
    }


def digest_choices(form: FlaskForm) -> dict[str, bool]:
    return {d: bool(form[digest_field(d)].data) for d in form.definition_ids}
