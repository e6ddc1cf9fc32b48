"""« Mettre à jour les contacts »: replace a contact of a validated habilitation, no new review.

The contacts are checked by the contacts block, exactly as the wizard checks them
(``blocks.contacts``); the habilitation's snapshot and its request's answers are updated
together, and an ``update_contacts`` event on the timeline carries the changes: its
subscribers email the newly designated DPO or controller, inform the instructors and post
the webhooks (``datapass.register_side_effects``). The token is untouched. The purpose, the
data and the legal basis still need a reopening (a new review).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import SimpleNamespace
from typing import Any

from sqlalchemy.orm.exc import StaleDataError

from datapass import blocks, workflow
from datapass.blocks import contacts
from datapass.catalog import get_catalog
from datapass.errors import UserError
from datapass.extensions import db
from datapass.models import Authorization, User
from datapass.services.authorization_requests import (
    STALE_STEP,
    is_current_version,
    sync_contacts,
)

EVENT = "update_contacts"
NOTHING_CHANGED = "Aucun contact n’a été modifié."
NOT_UPDATABLE = "Les contacts de cette habilitation ne peuvent pas être modifiés."
# Who receives « Vous avez été désigné » when their email is new on the habilitation.
DESIGNATED = (contacts.DPO, "responsable_traitement")


class ContactUpdateError(UserError):
    """A refused contact update: ``errors`` by field (shown next to each), or ``stale``."""

    def __init__(
        self,
        message: str,
        *,
        errors: Mapping[str, list[str]] | None = None,
        stale: bool = False,
    ):
        super().__init__(message)
        self.errors = dict(errors or {})
        self.stale = stale


def updated_answers(
    catalog_form, current: Mapping[str, Any], contact_types: Iterable[str], formdata
) -> dict[str, Any]:
    """The habilitation's answers with the posted fields of ``contact_types`` (cleaned like
    the wizard's; absent fields keep their value; implied answers stay the server's)."""
    types = tuple(contact_types)
    implied = contacts.implied_answers(types)
    fields = [name for name in contacts.contact_fields(types) if name not in implied]
    raw = {name: formdata.get(name, "") for name in fields if name in formdata}
    answers, _ = blocks.clean_answers(catalog_form, raw, fields=fields, bounded=False)
    return catalog_form.enforce_locks({**current, **answers, **implied})


def update_contacts(
    authorization: Authorization,
    user: User,
    formdata,
    *,
    contact_types: Iterable[str],
    version: Any,
) -> dict[str, list[str]]:
    """Replace the contacts of ``contact_types`` (those ``permissions.updatable_contacts``
    grants ``user``) from ``formdata``; commits. Returns the changes {field: [old, new]}.

    Refused (``ContactUpdateError``, nothing written) when the page's ``version`` is not the
    request's current one (``stale``), when a contact is invalid (``errors``), or when
    nothing changed.
    """
    authorization_request = authorization.request
    catalog_form = get_catalog().form(authorization.form_uid)
    types = tuple(contact_types)
    if (
        catalog_form is None
        or not types
        or not authorization.is_active
        or authorization_request.state != workflow.VALIDATED
    ):
        raise ContactUpdateError(NOT_UPDATABLE)
    if not is_current_version(authorization_request, version):
        raise ContactUpdateError(STALE_STEP, stale=True)
    before = dict(authorization.data or {})
    after = updated_answers(catalog_form, before, types, formdata)
    own_fields = contacts.contact_fields(types)
    errors = {
        name: messages
        for name, messages in blocks.get("contacts")
        .validate(catalog_form, SimpleNamespace(data=after))
        .items()
        if name in own_fields
    }
    if errors:
        raise ContactUpdateError(
            "Corrigez les contacts signalés\u00a0: rien n’a été enregistré.", errors=errors
        )
    changes = {
        name: [before.get(name) or "", after.get(name) or ""]
        for name in own_fields
        if (before.get(name) or "") != (after.get(name) or "")
    }
    if not changes:
        raise ContactUpdateError(NOTHING_CHANGED)
    designated = [
        kind
        for kind in DESIGNATED
        if f"{kind}_email" in changes
        and changes[f"{kind}_email"][0].lower() != changes[f"{kind}_email"][1].lower()
    ]
    authorization.data = after
    all_fields = contacts.contact_fields(catalog_form.contact_types)
    authorization_request.data = {
        **(authorization_request.data or {}),
        **{name: after[name] for name in all_fields if name in after},
    }
    sync_contacts(authorization_request, catalog_form)
    event = authorization_request.record_event(
        EVENT,
        actor=user,
        payload={
            "authorization": authorization.id,
            "changes": {"fields": changes},
            "designated": designated,
        },
    )
    event.authorization_id = authorization.id
    try:
        db.session.commit()
    except StaleDataError as error:
        db.session.rollback()
        raise ContactUpdateError(STALE_STEP, stale=True) from error
    return changes
