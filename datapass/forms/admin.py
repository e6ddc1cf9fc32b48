"""Forms of the administration pages."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import InputRequired, Length


class ClientForm(FlaskForm):
    name = StringField(
        "Nom du fournisseur de données",
        description="Par exemple « API Particulier (production) ».",
        validators=[InputRequired(message="Indiquez un nom."), Length(max=255)],
    )
