"""« Les modalités d’appel de l’API »: how the applicant's software calls the API."""

from __future__ import annotations

from wtforms import Form, SelectMultipleField
from wtforms.validators import ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from datapass.blocks.base import Block, SummaryBlock, SummaryItem, choices_of

# Every modality a definition may allow (the catalogue checks its names against these keys).
MODALITY_LABELS: dict[str, str] = {
    "params": "Avec un jeton d’accès et les paramètres de l’usager (identité, numéro "
    "d’allocataire…)",
    "formulaire_qf": "Par le formulaire d’accès au quotient familial",
    "france_connect": "Via FranceConnect, avec le consentement de l’usager",
}
# « formulaire_qf » is never chosen, only pre-filled by the forms that use it; calling
# through FranceConnect needs a FranceConnect habilitation, which this service does not
# manage yet: it is not offered.
NOT_OFFERED = frozenset({"formulaire_qf", "france_connect"})


class ModalitiesForm(Form):
    modalities = SelectMultipleField(
        "Les modalités d’appel de l’API",
        choices=[],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )

    def validate_modalities(self, field):
        if not field.data:
            raise ValidationError("Cochez au moins une modalité d’appel.")


class Modalities(Block):
    id = "modalities"
    slug = "modalites"
    title = "Les modalités d’appel de l’API"
    fields = ("modalities",)
    list_fields = frozenset({"modalities"})
    form_class = ModalitiesForm

    def configure(self, catalog_form, form, answers):
        form.modalities.choices = choices_of(catalog_form.modality_values(), MODALITY_LABELS)
        return form

    def labels(self, catalog_form):
        return {}  # a list: its changes are told as such, not as a field

    def summary(self, catalog_form, authorization_request):
        values = [
            MODALITY_LABELS.get(m, m)
            for m in (authorization_request.data or {}).get("modalities") or []
        ]
        return SummaryBlock(
            block=self.id,
            title=self.title,
            slug=None if catalog_form.is_locked(self.id) else self.slug,
            items=[SummaryItem("Modalités d’appel", values)],
        )


BLOCK = Modalities()
