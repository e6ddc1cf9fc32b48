"""« Le cadre juridique »: the legal text, its URL, and the uploaded délibération (PDF)."""

from __future__ import annotations

from urllib.parse import urlsplit

from wtforms import Form, MultipleFileField, StringField, TextAreaField
from wtforms.validators import Optional

from datapass import validators as v
from datapass.blocks.base import Block, SummaryItem, normalizing, required
from datapass.validators import Length

DOCUMENT_FIELD = "cadre_juridique_document"
DOCUMENT_LABEL = "Délibération ou texte juridique (PDF)"
NBSP = "\u00a0"
# Which case of the délibération rule applies to a request (the legal step says it):
NOT_CONCERNED = None  # the démarche has no such rule
REQUIRED_NOW = "required"  # scopes that need a délibération are checked
NOT_REQUIRED = "not_required"  # none checked (yet): the legal text suffices
# Codes and laws: an article there is the legal basis, never the board's own act.
LAW_HOSTS = ("legifrance.gouv.fr",)


def _lower_first(text: str) -> str:
    return text[0].lower() + text[1:]


def deliberation_case(catalog_form, data) -> str | None:
    """Does this request need a délibération (a PDF or the URL of the published act)?"""
    if not catalog_form.deliberation_required_for:
        return NOT_CONCERNED
    if catalog_form.deliberation_scopes((data or {}).get("scopes")):
        return REQUIRED_NOW
    return NOT_REQUIRED


def is_act_url(catalog_form, url) -> bool:
    """A URL that may be the published act: not the démarche's pre-filled legal text, not
    an article of a code (Légifrance)."""
    url = (url or "").strip()
    if not url or url == catalog_form.initialize_with.get("cadre_juridique_url"):
        return False
    host = (urlsplit(url).hostname or "").lower()
    return not any(host == law or host.endswith(f".{law}") for law in LAW_HOSTS)


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
        if errors.get("cadre_juridique_url"):
            return errors
        has_document = bool(self.documents(authorization_request))
        label = _lower_first(
            catalog_form.justificatif_label or "la délibération ou le texte juridique"
        )
        if deliberation_case(catalog_form, data) == REQUIRED_NOW:
            if not has_document and not is_act_url(catalog_form, data.get("cadre_juridique_url")):
                errors[DOCUMENT_FIELD] = [
                    f"Vous demandez des données de la DGFIP{NBSP}: joignez la délibération en "
                    "PDF ou indiquez l’URL de l’acte publié (un article de Légifrance ne suffit "
                    "pas)."
                ]
        elif not (data.get("cadre_juridique_url") or "").strip() and not has_document:
            errors["cadre_juridique_url"] = [f"Joignez {label} en PDF ou indiquez l’URL du texte."]
        return errors

    def step_context(self, catalog_form, authorization_request, step_form, user):
        data = authorization_request.data or {}
        return {
            "legal_documents": self.documents(authorization_request),
            "deliberation_case": deliberation_case(catalog_form, data),
            "deliberation_scopes": [
                scope.label
                for value in catalog_form.deliberation_scopes(data.get("scopes"))
                if (scope := catalog_form.definition.scope(value))
            ],
            "scopes_locked": catalog_form.is_locked("scopes"),
            "prefilled_url": bool(catalog_form.initialize_with.get("cadre_juridique_url")),
        }

    def summary(self, catalog_form, authorization_request):
        result = super().summary(catalog_form, authorization_request)
        documents = self.documents(authorization_request)
        result.items.append(SummaryItem(DOCUMENT_LABEL, documents or None))
        return result


BLOCK = Legal()
