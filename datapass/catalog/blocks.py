"""The block registry: which fields each block of a request holds, and the step titles.

A form's YAML names blocks by id (``steps``, ``static_blocks``); the fields listed here are
the keys of a request's answers. The organisation step comes first in every form and the
summary last: neither is a block nor listed in the YAML.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Block:
    id: str
    title: str
    fields: tuple[str, ...]


ORGANIZATION_STEP = "organization"
SUMMARY_STEP = "summary"

CONTACT_TYPES: dict[str, str] = {
    "contact_metier": "Contact métier",
    "contact_technique": "Contact technique",
    "delegue_protection_donnees": "Délégué à la protection des données",
    "responsable_traitement": "Responsable de traitement",
}
CONTACT_FIELD_SUFFIXES = ("family_name", "given_name", "email", "phone_number", "job_title")

# How the API is called; a definition lists the ones it allows.
MODALITY_LABELS: dict[str, str] = {
    "params": "Avec un jeton et les paramètres transmis par l’usager",
    "formulaire_qf": "Par le formulaire d’accès au quotient familial",
    "france_connect": "Via FranceConnect",
}


def contact_fields(contact_types: Iterable[str]) -> tuple[str, ...]:
    """The five fields of each contact type, e.g. ``contact_technique_email``."""
    return tuple(f"{kind}_{suffix}" for kind in contact_types for suffix in CONTACT_FIELD_SUFFIXES)


BLOCKS: dict[str, Block] = {
    block.id: block
    for block in (
        Block(
            "basic_infos",
            "Mon projet",
            (
                "intitule",
                "description",
                "date_prevue_mise_en_production",
                "volumetrie_approximative",
            ),
        ),
        Block(
            "legal",
            "Le cadre juridique",
            ("cadre_juridique_nature", "cadre_juridique_url", "cadre_juridique_document"),
        ),
        Block("modalities", "Les modalités d’appel de l’API", ("modalities",)),
        Block("scopes", "Les données", ("scopes",)),
        Block(
            "personal_data",
            "Le traitement des données personnelles",
            (
                "destinataire_donnees_caractere_personnel",
                "duree_conservation_donnees_caractere_personnel",
                "duree_conservation_donnees_caractere_personnel_justification",
            ),
        ),
        Block("contacts", "Les personnes impliquées", contact_fields(CONTACT_TYPES)),
    )
}

STEP_TITLES: dict[str, str] = {
    ORGANIZATION_STEP: "Votre organisation",
    **{block.id: block.title for block in BLOCKS.values()},
    SUMMARY_STEP: "La synthèse",
}

# Field → the id of the block that holds it.
FIELD_BLOCKS: dict[str, str] = {
    name: block.id for block in BLOCKS.values() for name in block.fields
}

# Fields whose value is a list of strings; fields holding uploaded documents.
LIST_FIELDS = frozenset({"modalities", "scopes"})
DOCUMENT_FIELDS = frozenset({"cadre_juridique_document"})

# What an editor's link (query string) may pre-fill: never a contact, never a document.
PREFILLABLE_FIELDS = frozenset(
    name
    for block_id in ("basic_infos", "legal", "modalities", "scopes", "personal_data")
    for name in BLOCKS[block_id].fields
    if name not in DOCUMENT_FIELDS
)

# Blocks every form shows, as a step or as a locked (static) block.
REQUIRED_BLOCKS = ("basic_infos", "legal", "scopes", "personal_data", "contacts")


def step_title(step: str) -> str:
    """The French title of a wizard step (a block id, the organisation or the summary)."""
    return STEP_TITLES[step]


def block_of(field_name: str) -> str | None:
    """The id of the block holding ``field_name``, or None for an unknown field."""
    return FIELD_BLOCKS.get(field_name)


def known_fields(contact_types: Iterable[str]) -> frozenset[str]:
    """Every field a form of a definition with these contact types may hold."""
    contacts = set(BLOCKS["contacts"].fields)
    return frozenset(set(FIELD_BLOCKS) - contacts) | frozenset(contact_fields(contact_types))
