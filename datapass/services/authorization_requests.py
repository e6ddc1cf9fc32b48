"""The applicant's side of a demande: start it, save a step, change its organisation, act.

The answers live in ``AuthorizationRequest.data`` as typed (strings and lists of strings),
so that « Enregistrer » keeps a half-filled step; they are cleaned by the one function of
the block registry (``blocks.clean_answers``) whoever writes them: the wizard, an editor's
link, the API. Locked (static) blocks always hold the form's values: whatever is posted for
them is ignored, here, on the server. Each public function commits once (or rolls back and
raises a ``RequestError``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from datapass import blocks, workflow
from datapass.blocks.contacts import Contacts
from datapass.catalog import get_catalog
from datapass.errors import UserError
from datapass.extensions import db
from datapass.models import AuthorizationRequest, Organization, RequestContact, User
from datapass.models.organization import DECLARED_IN_REQUEST
from datapass.services import documents, organizations, remembered_contacts, request_updates
from datapass.siret import InvalidSiret

CLOSED_ORGANIZATION = (
    "Cet établissement est fermé d’après le répertoire Sirene : il ne peut pas demander "
    "d’habilitation."
)
NOT_EDITABLE = "Cette demande ne peut plus être modifiée."
STALE_STEP = (
    "La demande a été modifiée entre-temps (dans un autre onglet ou par un instructeur) et "
    "vos dernières saisies n’ont pas été enregistrées. Voici sa version actuelle : "
    "vérifiez-la puis recommencez."
)


class RequestError(UserError):
    """A refused applicant action."""


# ---------------------------------------------------------------- start


def start_request(catalog_form, **draft: Any) -> AuthorizationRequest:
    """A new draft on ``catalog_form`` for ``organization``: its defaults, then ``prefill``
    (the keyword arguments of ``new_draft``).

    ``prefill`` has been cleaned by ``blocks.clean_answers`` (or ``prefill_from_query``).
    The wizard starts with ``event="create"`` (actor: the applicant), with the contacts of
    the organisation's last request (``remembered_contacts``); a claimed invitation
    (``services/invitations``) with ``prepared_by_instruction`` or ``create_by_api``. Commits.
    """
    authorization_request = new_draft(catalog_form, **draft)
    db.session.commit()
    return authorization_request


def new_draft(
    catalog_form,
    *,
    applicant: User,
    organization: Organization | None,
    prefill: Mapping[str, Any] | None = None,
    event: str = "create",
    actor: User | None = None,
    payload: Mapping[str, Any] | None = None,
) -> AuthorizationRequest:
    """``start_request`` without the commit, for a service that adds to the same transaction
    (claiming an invitation)."""
    if organization is None:
        raise RequestError(
            "Choisissez d’abord l’organisation pour laquelle vous faites la demande."
        )
    if organization.is_closed:
        raise RequestError(CLOSED_ORGANIZATION)
    data = catalog_form.initial_answers(prefill)
    remembered, source = {}, None
    if event in ("create", workflow.PREPARED_BY_INSTRUCTION):
        remembered, source = remembered_contacts.remembered_contacts(
            catalog_form, organization, applicant
        )
        # What the instruction prepared wins over the démarche's defaults (scopes unticked
        # included) and over the remembered contacts.
        prepared = dict(prefill or {}) if event == workflow.PREPARED_BY_INSTRUCTION else {}
        data = catalog_form.enforce_locks({**data, **remembered, **prepared})
    authorization_request = AuthorizationRequest(
        definition_id=catalog_form.definition.id,
        form_uid=catalog_form.uid,
        catalog_version=get_catalog().version,
        state=workflow.DRAFT,
        data=data,
        intitule=_intitule(data),
        organization=organization,
        applicant=applicant,
    )
    db.session.add(authorization_request)
    sync_contacts(authorization_request, catalog_form)
    if payload is None:
        payload = {"initial": data, "prefilled_keys": sorted(prefill or {})}
    if source is not None:
        payload["contacts_from"] = source.public_reference
        payload["contacts_organization_id"] = organization.id
        payload["remembered_contacts"] = remembered
    authorization_request.record_event(event, actor=actor, payload=dict(payload))
    return authorization_request


def start_request_for_applicant(
    user: User, catalog_form, *, prefill: Mapping[str, Any] | None = None
) -> AuthorizationRequest:
    """The wizard's « Débuter ma demande »: for the user's current organisation."""
    return start_request(
        catalog_form,
        applicant=user,
        organization=user.current_organization,
        prefill=prefill,
        actor=user,
    )


def prefilled_blocks(authorization_request: AuthorizationRequest, catalog_form) -> set[str]:
    """Blocks holding values from the form's defaults or from the editor's link."""
    found = set(catalog_form.prefilled_blocks())
    created = next(
        (
            e
            for e in authorization_request.events
            if e.name in ("create", workflow.PREPARED_BY_INSTRUCTION)
        ),
        None,
    )
    for key in (created.payload or {}).get("prefilled_keys", []) if created else []:
        if block := catalog_form.field_block(key):
            found.add(block)
    return found


# ---------------------------------------------------------------- save


def _intitule(data: Mapping[str, Any]) -> str | None:
    return (data.get("intitule") or None) and data["intitule"][:255]


def write_answers(authorization_request: AuthorizationRequest, catalog_form, answers) -> None:
    """Store cleaned answers over the current ones, locks enforced (no commit)."""
    if not authorization_request.is_editable:
        raise RequestError(NOT_EDITABLE)
    previous = authorization_request.data or {}
    data = catalog_form.enforce_locks({**previous, **answers})
    authorization_request.data = data
    authorization_request.intitule = _intitule(data)
    # The contact rows mirror the stored emails (every write keeps them so): a save that
    # changes none of them leaves the rows as they are, without loading them.
    if _contact_emails(previous, catalog_form) != _contact_emails(data, catalog_form):
        sync_contacts(authorization_request, catalog_form)


def fill_request(
    authorization_request: AuthorizationRequest, catalog_form, typed: Mapping[str, Any]
) -> list[blocks.Problem]:
    """Write typed answers of any blocks at once (seeds, scripts); commits.

    Returns what ``blocks.clean_answers`` left out (unknown or locked fields).
    """
    answers, problems = blocks.clean_answers(catalog_form, typed)
    write_answers(authorization_request, catalog_form, answers)
    db.session.commit()
    return problems


def posted_answers(catalog_form, block_id: str, formdata) -> dict[str, Any]:
    """What a step posted for its block: lists for list fields (absent: none ticked)."""
    block = blocks.get(block_id)
    return {
        name: formdata.getlist(name) if name in block.list_fields else formdata.get(name, "")
        for name in block.answer_fields(catalog_form)
        if name in formdata or name in block.list_fields
    }


@dataclass
class StepOutcome:
    """What became of a posted step (the answers are saved in every case but ``stale``)."""

    stale: bool = False
    errors: dict[str, list[str]] = field(default_factory=dict)  # field → messages
    upload_errors: dict[str, list[str]] = field(default_factory=dict)  # field → messages
    stay: bool = False  # « C’est moi » or a document removed: show the step again
    incomplete: blocks.Step | None = None  # an earlier step to complete first

    @property
    def ok(self) -> bool:
        return not (self.stale or self.errors or self.upload_errors)


def save_step(
    authorization_request: AuthorizationRequest,
    catalog_form,
    step: blocks.Step,
    formdata,
    *,
    user: User,
    action: str = "next",
    files=None,
    remove_document: str | None = None,
    version: str | None = None,
) -> StepOutcome:
    """Save one wizard step (answers, « C’est moi », uploads) in one commit, then check it.

    A step posted from a page older than the request's version, or without its version, is
    refused (``stale``), as nothing typed in another tab must be overwritten silently
    (``version=None``: not posted from a page, not checked). With ``action="next"``, the
    block and the steps before it are validated: the outcome says what to show.
    """
    if version is not None and not is_current_version(authorization_request, version):
        return StepOutcome(stale=True)
    block = blocks.get(step.block)
    raw = posted_answers(catalog_form, step.block, formdata)
    answers, _ = blocks.clean_answers(
        catalog_form, raw, fields=block.answer_fields(catalog_form), bounded=False
    )
    if action.startswith("itsme:"):
        answers.update(Contacts.self_contact(catalog_form, action.split(":", 1)[1], user))
    before = request_updates.snapshot(authorization_request, documents=bool(block.document_fields))
    if not catalog_form.is_locked(step.block):
        write_answers(authorization_request, catalog_form, answers)
    outcome = StepOutcome(stay=action.startswith("itsme:"))
    for name in block.document_fields:
        if remove_document and remove_document.isdigit():
            documents.remove_document(authorization_request, int(remove_document))
            outcome.stay = True
        _, problems = documents.attach_documents(
            authorization_request, name, files.getlist(name) if files else [], user=user
        )
        if problems:
            outcome.upload_errors[name] = problems
    request_updates.record_update(authorization_request, user, before)
    if not (outcome.upload_errors or outcome.stay or action != "next"):
        # Checked before the commit, on the answers in memory: after it they would be
        # loaded again (on SQLite in a second write transaction).
        _check_steps(catalog_form, step, block, authorization_request, outcome)
    db.session.commit()
    return outcome


def _check_steps(catalog_form, step, block, authorization_request, outcome: StepOutcome):
    """« Suivant »: the block's errors, else the first earlier step left incomplete."""
    outcome.errors = block.validate(catalog_form, authorization_request)
    if not outcome.errors:
        outcome.incomplete = next(
            (
                earlier
                for earlier in blocks.steps(catalog_form)[: step.number - 1]
                if earlier.is_block
                and blocks.validate_block(catalog_form, earlier.block, authorization_request)
            ),
            None,
        )


def update_by_api(
    authorization_request: AuthorizationRequest, catalog_form, answers, *, client_id: str
) -> AuthorizationRequest:
    """``PATCH /api/v1/demandes/<id>``: cleaned answers written, an event recorded; commits."""
    write_answers(authorization_request, catalog_form, answers)
    authorization_request.record_event(
        "update_by_api", actor=None, payload={"client_id": client_id, "keys": sorted(answers)}
    )
    db.session.commit()
    return authorization_request


# ---------------------------------------------------------------- organisation


def is_current_version(authorization_request: AuthorizationRequest, version: Any) -> bool:
    """Whether a page's hidden ``version`` is the request's current one (missing: stale)."""
    text = str(version or "")
    return text.isdigit() and len(text) < 10 and int(text) == authorization_request.version


def confirm_organization(
    authorization_request: AuthorizationRequest,
    user: User,
    raw_siret: str,
    *,
    version: str | None = None,
) -> Organization:
    """The « Votre organisation » step: another SIRET is validated, looked up and linked;
    the same one must not be closed. Commits, or rolls back and raises (``field="siret"``).

    ``version`` is the page's (None: not posted from a page); missing or old, it is refused
    like a stale step."""
    typed = (raw_siret or "").strip()
    organization = authorization_request.organization
    try:
        if version is not None and not is_current_version(authorization_request, version):
            raise RequestError(STALE_STEP)
        if typed and typed.replace(" ", "") != organization.siret:
            organization = _change_organization(authorization_request, user, typed)
        elif organization.is_closed:
            raise RequestError(
                "Cet établissement est fermé d’après le répertoire Sirene : indiquez le SIRET "
                "d’un établissement ouvert.",
                field="siret",
            )
    except (RequestError, InvalidSiret) as error:
        db.session.rollback()
        error.field = "siret"
        raise
    db.session.commit()
    return organization


def _change_organization(
    authorization_request: AuthorizationRequest, user: User, raw_siret: str
) -> Organization:
    if not authorization_request.is_editable:
        raise RequestError(NOT_EDITABLE)
    organization = organizations.find_or_create_organization(raw_siret)
    if organization.is_closed:
        raise RequestError(CLOSED_ORGANIZATION)
    if organization.id is None or user.membership_for(organization.id) is None:
        organizations.add_membership(user, organization, verified=False, reason=DECLARED_IN_REQUEST)
    user.current_organization = organization
    authorization_request.organization = organization
    catalog_form = get_catalog().form(authorization_request.form_uid)
    if catalog_form is not None:
        remembered_contacts.forget_for_another_organization(authorization_request, catalog_form)
        sync_contacts(authorization_request, catalog_form)
    return organization


def _contact_emails(data: Mapping[str, Any], catalog_form) -> dict[str, str]:
    """{contact type: email} as the contact rows hold them."""
    emails = {}
    for contact in catalog_form.contact_types:
        email = (data.get(f"{contact}_email") or "").strip().lower()
        if "@" in email:
            emails[contact] = email[:255]
    return emails


def sync_contacts(authorization_request: AuthorizationRequest, catalog_form) -> None:
    """Keep the indexed copy of the contacts' emails (contacts may read the request)."""
    emails = _contact_emails(authorization_request.data or {}, catalog_form)
    existing = {c.contact_type: c for c in authorization_request.contacts}
    for contact_type, row in existing.items():
        if contact_type not in emails:
            authorization_request.contacts.remove(row)
        elif row.email != emails[contact_type]:
            row.email = emails[contact_type]
    for contact_type, email in emails.items():
        if contact_type not in existing:
            authorization_request.contacts.append(
                RequestContact(contact_type=contact_type, email=email)
            )


# ---------------------------------------------------------------- other applicant actions


def _apply(authorization_request: AuthorizationRequest, event: str, user: User) -> None:
    from datapass.permissions import workflow_role

    try:
        workflow.apply(
            authorization_request,
            event,
            actor=user,
            role=workflow_role(user, authorization_request),
        )
    except workflow.TransitionError as error:
        db.session.rollback()
        raise RequestError(error.message) from error


def archive_request(authorization_request: AuthorizationRequest, user: User) -> None:
    _apply(authorization_request, "archive", user)
    db.session.commit()


def reopen_request(authorization_request: AuthorizationRequest, user: User) -> None:
    _apply(authorization_request, "reopen", user)
    db.session.commit()


def cancel_reopening(authorization_request: AuthorizationRequest, user: User) -> None:
    """Back to the validated habilitation: its answers and its documents."""
    from datapass.services import reopenings

    _apply(authorization_request, "cancel_reopening", user)
    reopenings.restore(authorization_request)
    db.session.commit()
