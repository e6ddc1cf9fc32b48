"""What the instruction pages say in words: the changes a submission brought, the instructor's
check of an applicant's organisation at approval, field labels."""

from __future__ import annotations

from datapass import blocks
from datapass.models import AuthorizationRequestEvent

MEMBERSHIP_CHECKED = (
    "L’instructeur a vérifié que le demandeur agit pour cette organisation : son rattachement "
    "est désormais vérifié."
)


def describe_event(event: AuthorizationRequestEvent, catalog_form) -> list[str]:
    """What the timeline says of an event beyond its label, as French sentences."""
    if event.name in ("submit", "update_contacts"):
        return describe_changes(event, catalog_form)
    if event.name == "approve" and (event.payload or {}).get("membership_checked"):
        return [MEMBERSHIP_CHECKED]
    return []


def describe_changes(event: AuthorizationRequestEvent, catalog_form) -> list[str]:
    """The changes a submission brought, as French sentences for the timeline."""
    payload = event.payload or {}
    changes = payload.get("changes")
    if changes is None:
        return []
    labels = field_labels(catalog_form)
    definition = catalog_form.definition if catalog_form else None

    def scope_label(value: str) -> str:
        scope = definition.scope(value) if definition else None
        return f"« {scope.label} »" if scope else f"« {value} »"

    sentences = []
    fields = changes.get("fields") or {}
    if payload.get("first_submission"):
        # Against the pre-filled values: only the pre-filled ones that changed matter.
        changed = {name: pair for name, pair in fields.items() if pair[0]}
        if not changed and not changes.get("scopes_removed"):
            sentences.append("Premier dépôt sans modification des données pré-remplies.")
        for name, (old, new) in changed.items():
            label = labels.get(name, name)
            sentences.append(f"Valeur pré-remplie modifiée : {label} (« {old} » → « {new} »).")
        if removed := changes.get("scopes_removed"):
            sentences.append(
                "Données pré-cochées retirées : " + ", ".join(scope_label(s) for s in removed) + "."
            )
        if added := changes.get("scopes_added"):
            sentences.append(
                "Données demandées : " + ", ".join(scope_label(s) for s in added) + "."
            )
        if added := changes.get("documents_added"):
            sentences.append("Documents joints : " + ", ".join(f"« {d} »" for d in added) + ".")
        return sentences
    for name, (old, new) in fields.items():
        label = labels.get(name, name)
        if not old:
            sentences.append(f"{label} renseigné : « {new} ».")
        elif not new:
            sentences.append(f"{label} vidé (c’était « {old} »).")
        else:
            sentences.append(f"{label} modifié : « {old} » → « {new} ».")
    if added := changes.get("scopes_added"):
        sentences.append("Données ajoutées : " + ", ".join(scope_label(s) for s in added) + ".")
    if removed := changes.get("scopes_removed"):
        sentences.append("Données retirées : " + ", ".join(scope_label(s) for s in removed) + ".")
    if added := changes.get("documents_added"):
        sentences.append("Documents ajoutés : " + ", ".join(f"« {d} »" for d in added) + ".")
    if removed := changes.get("documents_removed"):
        sentences.append("Documents retirés : " + ", ".join(f"« {d} »" for d in removed) + ".")
    if changes.get("modalities_added") or changes.get("modalities_removed"):
        sentences.append("Modalités d’appel modifiées.")
    if not sentences:
        sentences.append("Aucune modification depuis le dépôt précédent.")
    return sentences


def field_labels(catalog_form) -> dict[str, str]:
    """{field name: its French label} for every answer of the démarche (block registry)."""
    return blocks.field_labels(catalog_form)
