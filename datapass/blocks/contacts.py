"""« Les personnes impliquées »: one card of five fields per contact type of the definition.

A contact is a person, or an **organisation contact**: an editor's support team set as the
technical contact by the démarche (``technical_contact: editor`` in the catalogue). An
organisation contact has the service's name as ``family_name`` and no first name nor job
title; when the démarche locks it, its card is read-only and nothing posted changes it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from wtforms import Form, StringField

from datapass import validators as v
from datapass.blocks.base import Block, SummaryBlock, SummaryItem, normalizing, required
from datapass.validators import Length

CONTACT_TYPES: dict[str, str] = {
    "responsable_traitement": "Responsable de traitement",
    "delegue_protection_donnees": "Délégué à la protection des données",
    "contact_technique": "Contact technique",
    "contact_metier": "Contact métier",
}
# Display order of the cards: the order of CONTACT_TYPES, unknown types after, sorted.
# « C’est moi » fills these with the applicant's profile: the applicant may be the business
# or technical contact, or the controller (a CCAS director filing for the board); never the
# DPO, who must stay independent of whoever decides the processing (GDPR art. 38(6)).
SELF_FILLABLE_CONTACTS = frozenset(
    {"responsable_traitement", "contact_technique", "contact_metier"}
)
DPO = "delegue_protection_donnees"
TECHNICAL = "contact_technique"
REMEMBERED_NOTICE = "Contacts repris de votre demande {reference}\u00a0: vérifiez-les"
# Answers implied by the card itself, never asked: the DPO's « Fonction » is their role.
IMPLIED_ANSWERS = {f"{DPO}_job_title": CONTACT_TYPES[DPO]}
# (suffix, label, autocomplete)
CONTACT_FIELDS = (
    ("family_name", "Nom", "family-name"),
    ("given_name", "Prénom", "given-name"),
    ("email", "Email", "email"),
    ("phone_number", "Téléphone", "tel"),
    ("job_title", "Fonction", "organization-title"),
)
CONTACT_SUFFIXES = tuple(suffix for suffix, _, _ in CONTACT_FIELDS)
# The expected format, shown in the label (RGAA 11.10: a format checked is a format told).
CONTACT_HINTS = {
    "email": "Format attendu\u00a0: nom@domaine.fr",
    "phone_number": "Format attendu\u00a0: 01 22 33 44 55 ou +33 1 22 33 44 55",
}
# What an organisation contact (a team, not a person) leaves empty.
ORGANIZATION_OPTIONAL = ("given_name", "job_title")
ORGANIZATION_LABELS = (
    ("family_name", "Service"),
    ("email", "Email"),
    ("phone_number", "Téléphone"),
)


def implied_answers(contact_types: Iterable[str]) -> dict[str, str]:
    """The implied answers of these contact types (set by the server, not shown as inputs)."""
    types = set(contact_types)
    return {
        name: value for name, value in IMPLIED_ANSWERS.items() if name.rsplit("_", 2)[0] in types
    }


def ordered(contact_types: Iterable[str]) -> tuple[str, ...]:
    types = set(contact_types)
    return tuple(c for c in CONTACT_TYPES if c in types) + tuple(sorted(types - set(CONTACT_TYPES)))


def contact_label(contact_type: str) -> str:
    return CONTACT_TYPES.get(contact_type, contact_type)


def contact_fields(contact_types: Iterable[str]) -> tuple[str, ...]:
    """The five fields of each contact type, e.g. ``contact_technique_email``."""
    return tuple(f"{kind}_{suffix}" for kind in contact_types for suffix in CONTACT_SUFFIXES)


def organization_contact_answers(
    contact_type: str, *, service: str, email: str, phone: str
) -> dict[str, str]:
    """An organisation contact's five answers: the service's name, no first name nor title."""
    values = {
        "family_name": service,
        "given_name": "",
        "email": email,
        "phone_number": phone,
        "job_title": "",
    }
    return {f"{contact_type}_{suffix}": value for suffix, value in values.items()}


@dataclass(frozen=True)
class ContactCard:
    """One card of the contacts step."""

    contact: str
    label: str
    fields: list  # the step form's five fields
    self_fillable: bool  # shows « C’est moi »
    locked: bool = False  # fixed by the démarche: shown read-only, no input
    organization: bool = False  # an organisation contact: no first name nor job title
    values: Mapping[str, Any] | None = None  # the stored answers (read-only card)
    implied: tuple[tuple[str, str], ...] = ()  # (label, value) of answers not asked


def remembered_notice(authorization_request) -> str | None:
    """« Contacts repris de votre demande D12 : vérifiez-les » when the draft started with
    its organisation's contacts (``services.remembered_contacts``), while it is still for
    that organisation."""
    created = next((e for e in authorization_request.events if e.name == "create"), None)
    payload = (created.payload or {}) if created else {}
    source = payload.get("contacts_from")
    if not source or payload.get("contacts_organization_id") != (
        authorization_request.organization_id
    ):
        return None
    return REMEMBERED_NOTICE.format(reference=source)


def contacts_form_class(contact_types: Iterable[str]) -> type[Form]:
    """A form with the five fields of every contact type of the definition."""
    attributes = {}
    for contact in contact_types:
        who = contact_label(contact)
        for suffix, label, autocomplete in CONTACT_FIELDS:
            checks = [
                required(f"Indiquez le champ « {label} » du contact « {who} »."),
                Length(max=255),
                v.single_line,
            ]
            if suffix == "email":
                checks.append(normalizing(v.normalize_email))
            elif suffix == "phone_number":
                checks.append(normalizing(v.validate_french_phone))
            attributes[f"{contact}_{suffix}"] = StringField(
                label,
                description=CONTACT_HINTS.get(suffix, ""),
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

    def validate(self, catalog_form, authorization_request):
        """The form's checks, but an organisation contact needs no first name nor title."""
        errors = super().validate(catalog_form, authorization_request)
        for contact in catalog_form.organization_contacts(authorization_request.data or {}):
            for suffix in ORGANIZATION_OPTIONAL:
                errors.pop(f"{contact}_{suffix}", None)
        return errors

    def step_context(self, catalog_form, authorization_request, step_form, user):
        data = authorization_request.data or {}
        organization = catalog_form.organization_contacts(data)
        locked = catalog_form.locked_contact_types
        implied = implied_answers(catalog_form.contact_types)
        labels = {suffix: label for suffix, label, _ in CONTACT_FIELDS}
        cards = [
            ContactCard(
                contact=contact,
                label=contact_label(contact),
                fields=[
                    getattr(step_form, f"{contact}_{suffix}")
                    for suffix in CONTACT_SUFFIXES
                    if f"{contact}_{suffix}" not in implied
                ],
                self_fillable=contact in SELF_FILLABLE_CONTACTS and contact not in locked,
                locked=contact in locked,
                organization=contact in organization,
                values={suffix: data.get(f"{contact}_{suffix}") for suffix in CONTACT_SUFFIXES},
                implied=tuple(
                    (labels[suffix], implied[f"{contact}_{suffix}"])
                    for suffix in CONTACT_SUFFIXES
                    if f"{contact}_{suffix}" in implied
                ),
            )
            for contact in catalog_form.contact_types
        ]
        return {
            "contact_cards": cards,
            "optional_suffixes": ORGANIZATION_OPTIONAL,
            "remembered_notice": remembered_notice(authorization_request),
        }

    def summary(self, catalog_form, authorization_request):
        data = authorization_request.data or {}
        organization = catalog_form.organization_contacts(data)
        groups = []
        for contact in catalog_form.contact_types:
            if contact in organization:
                editor = catalog_form.editor.name if catalog_form.editor else ""
                groups.append(
                    (
                        f"{contact_label(contact)} (support de l’éditeur {editor})",
                        [
                            SummaryItem(label, data.get(f"{contact}_{suffix}") or None)
                            for suffix, label in ORGANIZATION_LABELS
                        ],
                    )
                )
                continue
            items = [
                SummaryItem(label, data.get(f"{contact}_{suffix}") or None)
                for suffix, label, _ in CONTACT_FIELDS
            ]
            groups.append((contact_label(contact), items))
        return SummaryBlock(
            block=self.id,
            title=self.title,
            slug=None if catalog_form.is_locked(self.id) else self.slug,
            groups=groups,
        )

    @staticmethod
    def self_contact(catalog_form, contact_type: str, user) -> dict[str, str]:
        """« C’est moi »: the applicant's profile as the answers of one contact card (never
        for a contact that the démarche locks)."""
        if contact_type not in SELF_FILLABLE_CONTACTS:
            return {}
        if contact_type not in catalog_form.contact_types:
            return {}
        if contact_type in catalog_form.locked_contact_types:
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
