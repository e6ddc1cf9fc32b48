"""Forms of the public open-data pages: the statistics' filters, the register's search,
the fingerprint check. They are GET forms that change nothing: no CSRF token."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional, Regexp

from datapass.services.statistics import DEFAULT_PERIOD, PERIODS, Filters

PERIOD_CHOICES = [
    SelectChoice("3", "Les 3 derniers mois"),
    SelectChoice("6", "Les 6 derniers mois"),
    SelectChoice("12", "Les 12 derniers mois"),
    SelectChoice("24", "Les 24 derniers mois"),
    SelectChoice("tout", "Depuis l’ouverture"),
]


class _GetForm(FlaskForm):
    class Meta:
        csrf = False


def definition_choices(definitions) -> list[SelectChoice]:
    return [SelectChoice("", "Tous les types")] + [SelectChoice(d.id, d.name) for d in definitions]


class StatisticsFiltersForm(_GetForm):
    definition = SelectField("Type d’habilitation", choices=[], default="")
    demarche = SelectField("Démarche", choices=[], default="")
    periode = SelectField("Période", choices=PERIOD_CHOICES, default=DEFAULT_PERIOD)

    def configure(self, definitions, forms) -> StatisticsFiltersForm:
        self.definition.choices = definition_choices(definitions)
        self.demarche.choices = [SelectChoice("", "Toutes les démarches")] + [
            SelectChoice(f.uid, f.name) for f in forms
        ]
        return self

    def filters(self) -> Filters:
        """The filters chosen; a value that is no choice falls back to its default, and its
        field says so."""
        self.validate()
        for field in (self.definition, self.demarche, self.periode):
            if field.errors or field.data is None:
                field.errors = ["Ce choix n’existe pas\u00a0: la valeur par défaut est appliquée."]
                field.data = field.default  # the list shows what applies
        return Filters(
            definition_id=self.definition.data or None,
            form_uid=self.demarche.data or None,
            period=self.periode.data if self.periode.data in PERIODS else DEFAULT_PERIOD,
        )


class RegisterSearchForm(_GetForm):
    q = StringField(
        "Rechercher une organisation, un SIRET ou une habilitation",
        validators=[Optional(), Length(max=100, message="100 caractères au plus.")],
    )
    definition = SelectField("Type d’habilitation", choices=[], default="")


class FingerprintForm(_GetForm):
    empreinte = StringField(
        "Empreinte SHA-256 du récépissé",
        validators=[
            Regexp(
                r"^\s*[0-9a-fA-F]{64}\s*$",
                message="L’empreinte compte 64 caractères, chiffres de 0 à 9 et lettres de a à f.",
            )
        ],
    )
