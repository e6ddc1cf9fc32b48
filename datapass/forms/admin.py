"""Forms of the administration pages."""

from __future__ import annotations

from collections.abc import Iterable

from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, ValidationError

from datapass import validators as v


class ClientForm(FlaskForm):
    name = StringField(
        "Nom du fournisseur de données",
        description="Par exemple « API Particulier (production) ».",
        validators=[InputRequired(message="Indiquez un nom."), Length(max=255)],
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
