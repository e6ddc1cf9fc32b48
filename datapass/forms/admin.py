"""Forms of the administration pages."""

from __future__ import annotations

from collections.abc import Iterable

from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, ValidationError

from datapass import validators as v
from datapass.catalog import get_catalog
from datapass.validators import Length


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


class EditorStaffForm(FlaskForm):
    """An editor's staff member (role ``editor:<id>``), granted by an admin."""

    email = StringField(
        "Adresse électronique",
        description="Une personne qui ne s’est jamais connectée recevra le rôle à sa "
        "première connexion.",
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
        validators=[InputRequired(message="Indiquez l’adresse électronique de la personne.")],
        render_kw={"type": "email", "autocomplete": "off", "spellcheck": "false"},
    )
    editor = SelectField("Éditeur", choices=[], validate_choice=False)

    def __init__(self, *args, editors: Iterable[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.editor.choices = [SelectChoice(editor_id, name) for editor_id, name in editors]

    def validate_email(self, field):
        try:
            field.data = v.normalize_email(field.data)
        except v.ValidationError as error:
            raise ValidationError(error.message) from error

    def validate_editor(self, field):
        if field.data not in {choice.value for choice in self.editor.choices}:
            raise ValidationError("Choisissez un éditeur dans la liste.")


class RevokeEditorStaffForm(FlaskForm):
    """The hidden form behind each « Retirer » button of the editors' staff."""

    email = HiddenField(validators=[InputRequired()])
    editor = HiddenField(validators=[InputRequired()])
