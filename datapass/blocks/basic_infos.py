"""« Mon projet »: the project's name, description, start date and volume."""

from __future__ import annotations

from wtforms import Form, StringField, TextAreaField
from wtforms.validators import Optional

from datapass import validators as v
from datapass.blocks.base import Block, normalizing, required
from datapass.validators import Length


class BasicInfosForm(Form):
    intitule = StringField(
        "Nom du projet",
        description="Ce nom sera public : il figure dans la liste des habilitations délivrées.",
        validators=[required("Indiquez le nom du projet."), Length(max=255), v.single_line],
    )
    description = TextAreaField(
        "Description du projet",
        description="À quoi serviront les données, pour quelles démarches et quels usagers.",
        validators=[required("Décrivez le projet."), Length(max=10000)],
    )
    date_prevue_mise_en_production = StringField(
        "Date prévue de mise en production",
        description="Format attendu : JJ/MM/AAAA.",
        validators=[
            Optional(),
            normalizing(v.validate_iso_date),
        ],
        render_kw={"type": "date"},
    )
    volumetrie_approximative = StringField(
        "Volumétrie approximative",
        description="Nombre d’appels à l’API attendus, par exemple « 200 par jour ».",
        validators=[Optional(), Length(max=255), v.single_line],
    )


class BasicInfos(Block):
    id = "basic_infos"
    slug = "projet"
    title = "Mon projet"
    fields = (
        "intitule",
        "description",
        "date_prevue_mise_en_production",
        "volumetrie_approximative",
    )
    form_class = BasicInfosForm

    def display(self, name, value):
        if name == "date_prevue_mise_en_production" and value and len(value) == 10:
            return "/".join(reversed(value.split("-")))  # 2027-01-15 → 15/01/2027
        return value


BLOCK = BasicInfos()
