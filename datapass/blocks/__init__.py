"""The block registry: one entry per block of a request, and the wizard's steps.

A request's answers (``AuthorizationRequest.data``) are grouped in blocks. Each block is one
module of this package: its fields, its WTForms class, its template
(``templates/applicant/steps/<id>.html``), how it is displayed and cleaned (``base.Block``).
The catalogue's YAML names blocks by id (``steps``, ``static_blocks``); what a démarche
changes (locked blocks, scopes offered) are methods of the catalogue's ``Form``.

Adding a block: write ``datapass/blocks/<id>.py`` with a ``Block`` subclass and its form,
add it to ``REGISTRY`` below, and write its template.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from datapass.blocks import basic_infos, contacts, legal, modalities, personal_data, scopes
from datapass.blocks.base import (
    Block,
    SummaryBlock,
    SummaryItem,
    answers_as_formdata,
    sanitize,
    too_long,
)

if TYPE_CHECKING:
    from datapass.catalog.model import Form as CatalogForm

__all__ = [
    "REGISTRY",
    "Block",
    "Problem",
    "Step",
    "SummaryBlock",
    "SummaryItem",
    "answers_as_formdata",
    "clean_answers",
    "get",
    "sanitize",
]

REGISTRY: dict[str, Block] = {
    block.id: block
    for block in (
        basic_infos.BLOCK,
        legal.BLOCK,
        modalities.BLOCK,
        scopes.BLOCK,
        personal_data.BLOCK,
        contacts.BLOCK,
    )
}

# The wizard's first and last steps are not blocks: the organisation, and the summary.
ORGANIZATION = "organization"
SUMMARY = "summary"
STEP_SLUGS = {ORGANIZATION: "organisation", SUMMARY: "synthese"}
STEP_TITLES = {ORGANIZATION: "Votre organisation", SUMMARY: "Synthèse"}

# Blocks every form shows, as a step or as a locked (static) block.
REQUIRED_BLOCKS = ("basic_infos", "legal", "scopes", "personal_data", "contacts")
# Field → block id, every contact type included.
FIELD_BLOCKS: dict[str, str] = {
    name: block.id for block in REGISTRY.values() for name in block.fields
}
LIST_FIELDS = frozenset().union(*(block.list_fields for block in REGISTRY.values()))
DOCUMENT_FIELDS = frozenset().union(*(block.document_fields for block in REGISTRY.values()))
# What an editor's link (query string) may pre-fill: never a contact, never a document.
PREFILLABLE_FIELDS = frozenset(
    name
    for block in REGISTRY.values()
    if block.prefillable
    for name in block.fields
    if name not in block.document_fields
)
CONTACT_TYPES = contacts.CONTACT_TYPES
MODALITY_LABELS = modalities.MODALITY_LABELS


def get(block_id: str) -> Block:
    return REGISTRY[block_id]


def block_of(field_name: str) -> str | None:
    """The id of the block holding ``field_name``, or None for an unknown field."""
    return FIELD_BLOCKS.get(field_name)


def known_fields(contact_types: Iterable[str]) -> frozenset[str]:
    """Every field a form of a definition with these contact types may hold."""
    others = {name for name, block in FIELD_BLOCKS.items() if block != contacts.BLOCK.id}
    return frozenset(others) | frozenset(contacts.contact_fields(contact_types))


def title(step: str) -> str:
    """The French title of a wizard step (a block id, the organisation or the summary)."""
    return STEP_TITLES.get(step) or REGISTRY[step].title


# ---------------------------------------------------------------- the wizard's steps


@dataclass(frozen=True)
class Step:
    block: str
    slug: str
    title: str
    number: int
    total: int

    @property
    def is_block(self) -> bool:
        return self.block in REGISTRY


def steps(catalog_form: CatalogForm) -> list[Step]:
    """« Votre organisation », the form's editable steps, then the summary."""
    ids = [ORGANIZATION, *catalog_form.editable_steps, SUMMARY]
    return [
        Step(block, STEP_SLUGS.get(block) or REGISTRY[block].slug, title(block), number, len(ids))
        for number, block in enumerate(ids, start=1)
    ]


def step_for_slug(catalog_form: CatalogForm, slug: str) -> Step | None:
    return next((step for step in steps(catalog_form) if step.slug == slug), None)


def neighbours(catalog_form: CatalogForm, current: Step) -> tuple[Step | None, Step | None]:
    all_steps = steps(catalog_form)
    index = current.number - 1
    previous = all_steps[index - 1] if index > 0 else None
    following = all_steps[index + 1] if index + 1 < len(all_steps) else None
    return previous, following


# ---------------------------------------------------------------- answers


@dataclass(frozen=True)
class Problem:
    """Why a posted value was not taken: ``title`` names the kind, ``detail`` says it."""

    field: str
    title: str
    detail: str


def clean_answers(
    catalog_form: CatalogForm,
    raw: Mapping[str, Any],
    *,
    fields: Iterable[str] | None = None,
    bounded: bool = True,
) -> tuple[dict[str, Any], list[Problem]]:
    """The one cleaning of typed answers (wizard, editors' links, API).

    Keeps the fields of ``fields`` (default: every answer field of the démarche), strips
    tags and spaces, makes list fields lists of strings. Unknown fields, documents, fields
    of locked blocks, values of the wrong type and (when ``bounded``) texts over 10 000
    characters are left out and told as problems (a locked field: of a static block, or of
    a contact the démarche fixes); nothing is cut. The wizard passes ``bounded=False``: it
    keeps what was typed, and its fields' own length checks say « N caractères au
    maximum » next to the field. Validation (required fields, formats) comes later, at
    « Suivant ».
    """
    allowed = set(fields) if fields is not None else set(catalog_form.answer_fields())
    cleaned: dict[str, Any] = {}
    problems: list[Problem] = []
    for name, value in raw.items():
        block_id = catalog_form.field_block(name)
        if block_id is None or name not in allowed or name in DOCUMENT_FIELDS:
            problems.append(
                Problem(name, "Champ inconnu", "Ce champ n’existe pas dans ce formulaire.")
            )
            continue
        if catalog_form.field_is_locked(name):
            problems.append(Problem(name, "Champ verrouillé", f"{name} est fixé par la démarche."))
            continue
        value, problem = REGISTRY[block_id].clean_value(name, value)
        if problem is None and bounded:
            problem = too_long(value)
        if problem is not None:
            problems.append(Problem(name, "Valeur invalide", problem))
            continue
        cleaned[name] = value
    return cleaned, problems


def prefill_from_query(catalog_form: CatalogForm, args) -> dict[str, Any]:
    """The allowlisted query parameters of an editor's link, cleaned.

    Contacts and documents are never taken (a link must not name somebody's technical
    contact), nor fields of locked blocks, nor unknown keys; list values outside the
    choices, and values that their field's own checks refuse, are dropped silently.
    """
    raw: dict[str, Any] = {}
    for key in args:
        name = key[:-2] if key.endswith("[]") else key
        if name in LIST_FIELDS:
            raw[name] = [*raw.get(name, []), *args.getlist(key)]
        else:
            raw[name] = args.get(key, "")
    cleaned, _ = clean_answers(catalog_form, raw, fields=PREFILLABLE_FIELDS)
    choices = {
        "scopes": catalog_form.offered_scope_values(),
        "modalities": set(catalog_form.modality_values()),
    }
    prefill: dict[str, Any] = {}
    for name, value in cleaned.items():
        if name in LIST_FIELDS:
            kept = sorted({v for v in value if v in choices.get(name, ())})
            if kept:
                prefill[name] = kept
        elif value and REGISTRY[FIELD_BLOCKS[name]].accepts_prefill(catalog_form, name, value):
            prefill[name] = value
    return prefill


# ---------------------------------------------------------------- validation and display


def validate_block(catalog_form: CatalogForm, block_id: str, authorization_request):
    """Errors of the stored answers of one block: {field: [messages]}, empty when valid."""
    return REGISTRY[block_id].validate(catalog_form, authorization_request)


def validate_all(catalog_form: CatalogForm, authorization_request) -> dict[str, dict]:
    """{block id: {field: [messages]}} of every block of the démarche; empty when valid."""
    errors = {}
    for block_id in catalog_form.summary_blocks:
        block_errors = validate_block(catalog_form, block_id, authorization_request)
        if block_errors:
            errors[block_id] = block_errors
    return errors


def summary(catalog_form: CatalogForm, authorization_request) -> list[SummaryBlock]:
    """Every block of the request, read-only, in the definition's summary order."""
    return [
        REGISTRY[block_id].summary(catalog_form, authorization_request)
        for block_id in catalog_form.summary_blocks
    ]


def field_labels(catalog_form: CatalogForm | None) -> dict[str, str]:
    """Field → French label of every answer of the démarche (timeline sentences)."""
    labels: dict[str, str] = {}
    if catalog_form is None:
        return labels
    for block_id in catalog_form.summary_blocks:
        labels.update(REGISTRY[block_id].labels(catalog_form))
    return labels
