"""« Les personnes impliquées »: one card of five fields per contact type of the definition."""

from __future__ import annotations

from collections.abc import Iterable

from wtforms import Form, StringField
from wtforms.validators import Length

from datapass import validators as v
from datapass.blocks.base import Block, SummaryBlock, SummaryItem, normalizing, required

CONTACT_TYPES: dict[str, str] = {
    "responsable_traitement": "Responsable de traitement",
    "delegue_protection_donnees": "Délégué à la protection des données",
    "contact_technique": "Contact technique",
    "contact_metier": "Contact métier",
}
# Display order of the cards: the order of CONTACT_TYPES, unknown types after, sorted.
# « C’est moi » fills these with the applicant's profile (not the DPO nor the controller).
SELF_FILLABLE_CONTACTS = frozenset({"contact_technique", "contact_metier"})
DPO = "delegue_protection_donnees"
# (suffix, label, autocomplete)
CONTACT_FIELDS = (
    ("family_name", "Nom", "family-name"),
    ("given_name", "Prénom", "given-name"),
    ("email", "Email", "email"),
    ("phone_number", "Téléphone", "tel"),
    ("job_title", "Fonction", "organization-title"),
)
CONTACT_SUFFIXES = tuple(suffix for suffix, _, _ in CONTACT_FIELDS)


def ordered(contact_types: Iterable[str]) -> tuple[str, ...]:
    types = set(contact_types)
    return tuple(c for c in CONTACT_TYPES if c in types) + tuple(sorted(types - set(CONTACT_TYPES)))


def contact_label(contact_type: str) -> str:
    return CONTACT_TYPES.get(contact_type, contact_type)


def contact_fields(contact_types: Iterable[str]) -> tuple[str, ...]:
    """The five fields of each contact type, e.g. ``contact_technique_email``."""
    return tuple(f"{kind}_{suffix}" for kind in contact_types for suffix in CONTACT_SUFFIXES)


def contacts_form_class(contact_types: Iterable[str]) -> type[Form]:
    """A form with the five fields of every contact type of the definition."""
    attributes = {}
    for contact in contact_types:
        who = contact_label(contact)
        for suffix, label, autocomplete in CONTACT_FIELDS:
            checks = [required(f"Indiquez le champ « {label} » du contact « {who} ».")]
            if suffix == "email":
                checks.append(normalizing(v.normalize_email))
            elif suffix == "phone_number":
                checks.append(normalizing(v.validate_french_phone))
            else:
                checks.append(Length(max=255))
            attributes[f"{contact}_{suffix}"] = StringField(
                label,
                validators=checks,
                render_kw={"autocomplete": autocomplete}
                | ({"type": "email"} if suffix == "email" else {})
                | ({"type": "tel"} if suffix == "phone_number" else {}),
            )
    return type("ContactsForm", (Form,), attributes)


class Contacts(Block):
    id = "contacts"
    slug = "contacts"
    title = "Les personnes impliquées"
    fields = contact_fields(CONTACT_TYPES)
    prefillable = False  # a link must not name somebody's contact
    form_class = contacts_form_class(CONTACT_TYPES)

    def fields_for(self, catalog_form):
        return contact_fields(catalog_form.contact_types)

    def form_class_for(self, catalog_form):
        return contacts_form_class(catalog_form.contact_types)

    def labels(self, catalog_form):
        return {
            f"{contact}_{suffix}": f"{label} ({contact_label(contact)})"
            for contact in catalog_form.contact_types
            for suffix, label, _ in CONTACT_FIELDS
        }

    def step_context(self, catalog_form, authorization_request, step_form, user):
        cards = [
            (
                contact,
                contact_label(contact),
                [getattr(step_form, f"{contact}_{suffix}") for suffix in CONTACT_SUFFIXES],
                contact in SELF_FILLABLE_CONTACTS,
            )
            for contact in catalog_form.contact_types
        ]
        return {"contact_cards": cards}

    def summary(self, catalog_form, authorization_request):
        data = authorization_request.data or {}
        groups = [
            (
                contact_label(contact),
                [
                    SummaryItem(label, data.get(f"{contact}_{suffix}") or None)
                    for suffix, label, _ in CONTACT_FIELDS
                ],
            )
            for contact in catalog_form.contact_types
        ]
        return SummaryBlock(
            block=self.id,
            title=self.title,
            slug=None if catalog_form.is_locked(self.id) else self.slug,
            groups=groups,
        )

    @staticmethod
    def self_contact(catalog_form, contact_type: str, user) -> dict[str, str]:
        """« C’est moi »: the applicant's profile as the answers of one contact card."""
        if contact_type not in SELF_FILLABLE_CONTACTS:
            return {}
        if contact_type not in catalog_form.contact_types:
            return {}
        values = {
            "family_name": user.family_name or "",
            "given_name": user.given_name or "",
            "email": user.email or "",
            "phone_number": user.phone_number or "",
            "job_title": user.job_title or "",
        }
        return {f"{contact_type}_{suffix}": value for suffix, value in values.items()}


BLOCK = Contacts()
