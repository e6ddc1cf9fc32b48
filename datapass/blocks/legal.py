"""« Le cadre juridique »: the legal text, its URL, and the uploaded délibération (PDF)."""

from __future__ import annotations

from wtforms import Form, MultipleFileField, StringField, TextAreaField
from wtforms.validators import Optional

from datapass import validators as v
from datapass.blocks.base import Block, SummaryItem, normalizing, required
from datapass.validators import Length

DOCUMENT_FIELD = "cadre_juridique_document"
DOCUMENT_LABEL = "Délibération ou texte juridique (PDF)"


class LegalForm(Form):
    cadre_juridique_nature = TextAreaField(
        "Précisez la nature et les références du texte vous autorisant à traiter les données",
        description="Par exemple : délibération du conseil d’administration du CCAS du "
        "12 octobre 2023 ; article L. 114-8 du code des relations entre le public et "
        "l’administration.",
        validators=[
            required("Indiquez le texte qui vous autorise à traiter ces données."),
            Length(max=10000),
        ],
    )
    cadre_juridique_url = StringField(
        "URL du texte",
        description="Adresse web où le texte est publié, par exemple sur Légifrance ou sur le "
        "site de votre collectivité.",
        validators=[Optional(), Length(max=2000), v.single_line, normalizing(v.validate_url)],
        render_kw={"type": "url"},
    )


class LegalStepForm(LegalForm):
    """What the step posts: the block's fields and the upload."""

    cadre_juridique_document = MultipleFileField(
        DOCUMENT_LABEL,
        description="Taille maximale\u00a0: 10\u00a0Mo par fichier, 6\u00a0fichiers au plus. "
        "Format accepté\u00a0: PDF.",
        render_kw={"accept": "application/pdf,.pdf"},
    )


class Legal(Block):
    id = "legal"
    slug = "cadre-juridique"
    title = "Le cadre juridique"
    fields = ("cadre_juridique_nature", "cadre_juridique_url", DOCUMENT_FIELD)
    document_fields = frozenset({DOCUMENT_FIELD})
    form_class = LegalForm
    step_form_class = LegalStepForm
    multipart = True

    def configure(self, catalog_form, form, answers):
        hint = catalog_form.hints.get("cadre_juridique_nature") if catalog_form.hints else None
        if hint:
            form.cadre_juridique_nature.description = hint
        return form

    @staticmethod
    def documents(authorization_request) -> list:
        return [d for d in authorization_request.documents if d.field == DOCUMENT_FIELD]

    def validate(self, catalog_form, authorization_request):
        errors = super().validate(catalog_form, authorization_request)
        data = authorization_request.data or {}
        if not errors.get("cadre_juridique_url"):
            has_document = bool(self.documents(authorization_request))
            if not (data.get("cadre_juridique_url") or "").strip() and not has_document:
                label = catalog_form.justificatif_label or "la délibération ou le texte juridique"
                errors["cadre_juridique_url"] = [
                    f"Joignez {label[0].lower() + label[1:]} en PDF ou indiquez l’URL du texte."
                ]
        return errors

    def step_context(self, catalog_form, authorization_request, step_form, user):
        return {"legal_documents": self.documents(authorization_request)}

    def summary(self, catalog_form, authorization_request):
        result = super().summary(catalog_form, authorization_request)
        documents = self.documents(authorization_request)
        result.items.append(SummaryItem(DOCUMENT_LABEL, documents or None))
        return result


BLOCK = Legal()
