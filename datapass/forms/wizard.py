"""The wizard of a démarche: its steps, the WTForms of each block, locks and validation.

A catalogue ``Form`` says which blocks are steps and which are locked (static); this
module turns that into step forms, and validates stored answers block by block.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask_wtf import FlaskForm
from wtforms import Form, MultipleFileField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from datapass.catalog.blocks import BLOCKS, CONTACT_TYPES
from datapass.forms.blocks import (
    BasicInfosForm,
    LegalForm,
    PersonalDataForm,
    ScopesForm,
    answers_as_formdata,
    contacts_form_class,
)

ORGANIZATION = "organization"
SUMMARY = "summary"
SLUGS = {
    ORGANIZATION: "organisation",
    "basic_infos": "projet",
    "legal": "cadre-juridique",
    "modalities": "modalites",
    "scopes": "donnees",
    "personal_data": "donnees-personnelles",
    "contacts": "contacts",
    SUMMARY: "synthese",
}
BLOCK_OF_SLUG = {slug: block for block, slug in SLUGS.items()}
TITLES = {ORGANIZATION: "Votre organisation", SUMMARY: "Synthèse"}
# Display order of the contact fieldsets.
CONTACT_ORDER = (
    "responsable_traitement",
    "delegue_protection_donnees",
    "contact_technique",
    "contact_metier",
)
# « C’est moi » fills these with the applicant's profile (not the DPO nor the controller).
SELF_FILLABLE_CONTACTS = frozenset({"contact_technique", "contact_metier"})
CONTACT_SUFFIXES = ("family_name", "given_name", "email", "phone_number", "job_title")
MODALITY_LABELS = {
    "params": "Avec un jeton d’accès et les paramètres de l’usager (identité, numéro "
    "d’allocataire…)",
    "france_connect": "Via FranceConnect, avec le consentement de l’usager",
}
DOCUMENT_FIELD = "cadre_juridique_document"
DOCUMENT_LABEL = "Délibération ou texte juridique (PDF)"


@dataclass(frozen=True)
class Step:
    block: str
    slug: str
    title: str
    number: int
    total: int


def block_title(block: str) -> str:
    return TITLES.get(block) or BLOCKS[block].title


def steps(form) -> list[Step]:
    """« Votre organisation », the form's steps, then the summary."""
    blocks = [ORGANIZATION, *[b for b in form.steps if not block_is_locked(form, b)], SUMMARY]
    return [
        Step(block, SLUGS[block], block_title(block), number, len(blocks))
        for number, block in enumerate(blocks, start=1)
    ]


def step_for_slug(form, slug: str) -> Step | None:
    return next((step for step in steps(form) if step.slug == slug), None)


def all_blocks(form) -> list[str]:
    """Every block the request answers, in the summary order of the definition."""
    present = set(form.steps) | set(form.static_blocks)
    order = list(form.definition.summary_block_order)
    return [b for b in order if b in present] + [b for b in form.steps if b not in order]


def block_is_locked(form, block: str) -> bool:
    return block in form.static_blocks


def contact_types(form) -> list[str]:
    types = set(form.definition.contact_types)
    return [c for c in CONTACT_ORDER if c in types] + sorted(types - set(CONTACT_ORDER))


def contact_label(contact_type: str) -> str:
    return CONTACT_TYPES.get(contact_type, contact_type)


def has_dpo(form) -> bool:
    return "delegue_protection_donnees" in form.definition.contact_types


def block_fields(form, block: str) -> list[str]:
    if block == "contacts":
        return [f"{c}_{s}" for c in contact_types(form) for s in CONTACT_SUFFIXES]
    return list(BLOCKS[block].fields)


def field_block(form, field: str) -> str | None:
    for block in all_blocks(form):
        if field in block_fields(form, block):
            return block
    return None


def field_is_locked(form, field: str) -> bool:
    block = field_block(form, field)
    return block is not None and block_is_locked(form, block)


def modality_values(form) -> list[str]:
    # « formulaire_qf » is never chosen, only pre-filled by the forms that use it; calling
    # through FranceConnect needs a FranceConnect habilitation, which this service does not
    # manage yet: it is not offered.
    return [m for m in form.definition.modalities if m not in ("formulaire_qf", "france_connect")]


# ---------------------------------------------------------------- scopes


def locked_scopes(form) -> frozenset[str]:
    return frozenset(form.scopes_config.disabled)


def selectable_scopes(form, current: list[str] | None = None) -> list[str]:
    """Scopes the applicant may tick: offered ones, plus retired ones already held."""
    offered = [s.value for group in form.offered_scopes() for s in group.scopes]
    held_retired = [
        s
        for s in (current or [])
        if (scope := form.definition.scope(s)) is not None and scope.retired
    ]
    return offered + [s for s in held_retired if s not in offered]


def scope_groups_for_display(form, current: list[str]) -> list[dict[str, Any]]:
    """Groups of checkboxes: offered scopes, then retired ones the request still holds."""
    locked = locked_scopes(form)
    groups = []
    for group in form.offered_scopes():
        groups.append(
            {
                "name": group.name,
                "scopes": [
                    {"scope": s, "checked": s.value in current, "locked": s.value in locked}
                    for s in group.scopes
                ],
            }
        )
    retired = [
        form.definition.scope(v)
        for v in current
        if form.definition.scope(v) is not None and form.definition.scope(v).retired
    ]
    if retired:
        groups.append(
            {
                "name": "Données retirées du catalogue",
                "retired": True,
                "scopes": [{"scope": s, "checked": True, "locked": True} for s in retired],
            }
        )
    return groups


def enforce_locked(form, data: dict[str, Any]) -> dict[str, Any]:
    """Locked blocks hold the form's values; locked scopes keep their pre-set state."""
    data = dict(data)
    defaults = form.initialize_with
    for block in form.static_blocks:
        for field in block_fields(form, block):
            if field in defaults:
                value = defaults[field]
                data[field] = list(value) if isinstance(value, list | tuple) else value
            else:
                data.pop(field, None)
    if "scopes" in data or "scopes" in defaults:
        current = list(data.get("scopes") or [])
        allowed = set(selectable_scopes(form, current))
        preset = set(defaults.get("scopes") or ())
        locked = locked_scopes(form)
        kept = {s for s in current if s in allowed and s not in locked} | (locked & preset)
        order = {s.value: i for i, s in enumerate(form.definition.scopes)}
        data["scopes"] = sorted(kept, key=lambda s: order.get(s, len(order)))
    if "modalities" in data:
        allowed_modalities = set(modality_values(form)) | set(defaults.get("modalities") or ())
        data["modalities"] = [m for m in data["modalities"] if m in allowed_modalities]
    return data


# ---------------------------------------------------------------- block forms


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


class LegalStepMixin(Form):
    cadre_juridique_document = MultipleFileField(
        DOCUMENT_LABEL,
        description="Taille maximale\u00a0: 10\u00a0Mo par fichier, 6\u00a0fichiers au plus. "
        "Format accepté\u00a0: PDF.",
        render_kw={"accept": "application/pdf,.pdf"},
    )


def block_form_class(form, block: str) -> type[Form]:
    if block == "basic_infos":
        return BasicInfosForm
    if block == "legal":
        return LegalForm
    if block == "personal_data":
        return PersonalDataForm
    if block == "scopes":
        return ScopesForm
    if block == "modalities":
        return ModalitiesForm
    if block == "contacts":
        return contacts_form_class(contact_types(form))
    raise KeyError(block)


def _configure(form, block: str, instance: Form, current: Mapping[str, Any]) -> Form:
    if block == "scopes":
        values = selectable_scopes(form, list(current.get("scopes") or []))
        instance.scopes.choices = [
            SelectChoice(v, form.definition.scope(v).label)
            for v in values
            if form.definition.scope(v)
        ]
    elif block == "modalities":
        instance.modalities.choices = [
            SelectChoice(m, MODALITY_LABELS.get(m, m)) for m in modality_values(form)
        ]
    elif block == "legal":
        hint = form.hints.get("cadre_juridique_nature") if form.hints else None
        if hint:
            instance.cadre_juridique_nature.description = hint
    return instance


class SiretStepForm(FlaskForm):
    siret = StringField(
        "Numéro SIRET",
        description="14 chiffres, sans espace. Vous le trouvez sur l’annuaire des entreprises.",
        render_kw={"inputmode": "numeric", "autocomplete": "off"},
    )


def step_form(form, block: str, data: Mapping[str, Any], *, posted: bool = False) -> FlaskForm:
    """The FlaskForm (CSRF included) of a wizard step: from the POST, or from stored answers."""
    base = block_form_class(form, block)
    bases = (FlaskForm, LegalStepMixin, base) if block == "legal" else (FlaskForm, base)
    cls = type(f"{base.__name__}Step", bases, {})
    instance = cls() if posted else cls(formdata=answers_as_formdata(_subset(form, block, data)))
    return _configure(form, block, instance, data)


def _subset(form, block: str, data: Mapping[str, Any]) -> dict[str, Any]:
    return {f: data[f] for f in block_fields(form, block) if f in data and f != DOCUMENT_FIELD}


def validate_block(form, block: str, request) -> dict[str, list[str]]:
    """Errors of the stored answers of one block: {field: [messages]}, empty when valid."""
    data = request.data or {}
    instance = _configure(
        form,
        block,
        block_form_class(form, block)(formdata=answers_as_formdata(_subset(form, block, data))),
        data,
    )
    instance.validate()
    errors = {name: list(messages) for name, messages in instance.errors.items() if messages}
    if block == "legal" and not errors.get("cadre_juridique_url"):
        has_document = any(d.field == DOCUMENT_FIELD for d in request.documents)
        if not (data.get("cadre_juridique_url") or "").strip() and not has_document:
            label = form.justificatif_label or "la délibération ou le texte juridique"
            errors["cadre_juridique_url"] = [
                f"Joignez {label[0].lower() + label[1:]} en PDF ou indiquez l’URL du texte."
            ]
    return errors


def apply_errors(step_form, errors: Mapping[str, list[str]]) -> None:
    """Put the errors of ``validate_block`` on the fields of a step form."""
    for name, messages in errors.items():
        field = getattr(step_form, name, None)
        if field is not None:
            field.errors = list(messages)


def self_contact(form, contact_type: str, user) -> dict[str, str]:
    """« C’est moi »: the applicant's profile as the answers of one contact card."""
    if contact_type not in SELF_FILLABLE_CONTACTS or contact_type not in contact_types(form):
        return {}
    values = {
        "family_name": user.family_name or "",
        "given_name": user.given_name or "",
        "email": user.email or "",
        "phone_number": user.phone_number or "",
        "job_title": user.job_title or "",
    }
    return {f"{contact_type}_{suffix}": value for suffix, value in values.items()}


@dataclass(frozen=True)
class SummaryItem:
    label: str
    value: Any  # str, list of str, or None (« Non renseigné »)


@dataclass(frozen=True)
class SummaryBlock:
    block: str
    title: str
    slug: str | None  # the step to edit it, None when locked
    items: list[SummaryItem]
    groups: list[tuple[str, list[SummaryItem]]]  # contacts: one group per contact
    errors: dict[str, list[str]]


def _field_labels(form, block: str) -> dict[str, str]:
    if block in ("scopes", "modalities", "contacts"):
        return {}
    instance = block_form_class(form, block)()
    return {field.name: field.label.text for field in instance}


def summary(form, request) -> list[SummaryBlock]:
    """Every block of the request, read-only, in the definition's summary order."""
    data = request.data or {}
    result = []
    for block in all_blocks(form):
        locked = block_is_locked(form, block)
        items: list[SummaryItem] = []
        groups: list[tuple[str, list[SummaryItem]]] = []
        if block == "scopes":
            labels = {s.value: s for s in form.definition.scopes}
            chosen = [labels[v] for v in data.get("scopes") or [] if v in labels]
            by_group: dict[str, list[str]] = {}
            for scope in chosen:
                suffix = " (donnée retirée du catalogue)" if scope.retired else ""
                by_group.setdefault(scope.group, []).append(scope.label + suffix)
            groups = [(name, [SummaryItem("Données", values)]) for name, values in by_group.items()]
        elif block == "modalities":
            values = [MODALITY_LABELS.get(m, m) for m in data.get("modalities") or []]
            items = [SummaryItem("Modalités d’appel", values)]
        elif block == "contacts":
            names = dict(
                zip(
                    CONTACT_SUFFIXES,
                    ("Nom", "Prénom", "Email", "Téléphone", "Fonction"),
                    strict=True,
                )
            )
            for contact in contact_types(form):
                groups.append(
                    (
                        contact_label(contact),
                        [
                            SummaryItem(names[s], data.get(f"{contact}_{s}") or None)
                            for s in CONTACT_SUFFIXES
                        ],
                    )
                )
        else:
            for name, label in _field_labels(form, block).items():
                value = data.get(name) or None
                if name == "date_prevue_mise_en_production" and value and len(value) == 10:
                    value = "/".join(reversed(value.split("-")))  # 2027-01-15 → 15/01/2027
                items.append(SummaryItem(label, value))
            if block == "legal":
                docs = [d for d in request.documents if d.field == DOCUMENT_FIELD]
                items.append(SummaryItem(DOCUMENT_LABEL, docs or None))
        result.append(
            SummaryBlock(
                block=block,
                title=block_title(block),
                slug=None if locked else SLUGS[block],
                items=items,
                groups=groups,
                errors={},
            )
        )
    return result
