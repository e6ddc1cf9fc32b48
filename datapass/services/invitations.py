"""Requests prepared for an organisation and claimed by their future applicant.

An instructor prepares an invitation (démarche, SIRET, answers of any block, documents, a
note: ``services/invitation_answers.py``) and « Inviter » emails its link; an API client's
``POST /api/v1/demandes`` creates one and sends it at once. Only the person signed in with
the invited email **and** acting for the invited SIRET can « Reprendre la demande »: a
normal draft is then created with the prepared answers and documents, in the same
transaction that consumes the invitation. Nothing is ever attached to an account or an
organisation before that.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select, update

from datapass import workflow
from datapass.catalog import get_catalog
from datapass.errors import UserError
from datapass.extensions import db
from datapass.models import AuthorizationRequest, User
from datapass.models.base import utcnow
from datapass.models.invitation import CANCELLED, CLAIMED, EXPIRED, PREPARED, Invitation
from datapass.services import emails, invitation_answers
from datapass.services.authorization_requests import new_draft

PAGE_SIZE = 50


class InvitationError(UserError):
    """An invitation that cannot be sent, cancelled or claimed (French message)."""


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def prepare(
    catalog_form,
    *,
    siret: str,
    email: str,
    answers: Mapping[str, Any],
    note: str | None,
    user: User | None = None,
    client_id: str | None = None,
) -> Invitation:
    """A prepared request (not sent yet); ``answers`` cleaned by ``blocks.clean_answers``.
    Commits."""
    invitation = Invitation(
        definition_id=catalog_form.definition.id,
        form_uid=catalog_form.uid,
        siret=siret,
        email=email.strip().lower(),
        answers=dict(answers),
        note=(note or "").strip() or None,
        created_by=user,
        client_id=client_id,
    )
    db.session.add(invitation)
    db.session.commit()
    return invitation


def create_by_api(
    catalog_form, *, siret: str, email: str, answers: Mapping[str, Any], client_id: str
) -> Invitation:
    """``POST /api/v1/demandes``: an invitation sent at once to ``email`` for ``siret``;
    never a draft attached to an account or an organisation. Commits."""
    from datapass.services import organizations

    if organizations.find_or_create_organization(siret).is_closed:
        db.session.rollback()
        raise InvitationError("Cet établissement est fermé d’après Sirene.")
    invitation = prepare(
        catalog_form, siret=siret, email=email, answers=answers, note=None, client_id=client_id
    )
    invite(invitation)
    return invitation


def invite(invitation: Invitation) -> None:
    """Email the future applicant a new link (a previous one stops working). Commits."""
    if invitation.state in (CLAIMED, CANCELLED) or not invitation.email:
        raise InvitationError("Cette invitation ne peut plus être envoyée.")
    secret = secrets.token_urlsafe(32)
    now = utcnow()
    invitation.token_hash = _hash(secret)
    invitation.sent_at = now
    invitation.expires_at = now + timedelta(days=current_app.config["INVITATION_LIFETIME_DAYS"])
    db.session.flush()
    catalog_form = get_catalog().form(invitation.form_uid)
    emails.queue(
        "invitation",
        [invitation.email],
        {
            "invitation": invitation,
            "form": catalog_form,
            "definition": catalog_form.definition if catalog_form else None,
            "siret": invitation.siret,
            "action_url": emails.public_url(f"/invitations/{secret}"),
            "action_label": "Reprendre la demande",
        },
        event_id=f"invitation-{invitation.id}-{invitation.token_hash[:12]}",
    )
    db.session.commit()


def cancel(invitation: Invitation) -> None:
    """Commits; a claimed invitation cannot be cancelled (its draft is the applicant's)."""
    if invitation.claimed_at is not None:
        raise InvitationError("Cette invitation a déjà été reprise par le demandeur.")
    invitation.cancelled_at = invitation.cancelled_at or utcnow()
    invitation_answers.delete_documents(invitation)  # their files go at the commit
    db.session.commit()


def find_by_secret(secret: str) -> Invitation | None:
    if not secret or len(secret) > 100:
        return None
    return db.session.scalar(select(Invitation).where(Invitation.token_hash == _hash(secret)))


def claim_problem(invitation: Invitation, user: User) -> str | None:
    """Why ``user`` cannot claim ``invitation`` now, in French (None: they can)."""
    state = invitation.state
    if state == CLAIMED:
        return (
            "Cette invitation a déjà été utilisée\u00a0: la demande est dans le tableau de bord "
            "de la personne qui l’a reprise."
        )
    if state == CANCELLED:
        return "Cette invitation a été annulée par l’instruction."
    if state == EXPIRED:
        return (
            "Cette invitation a expiré\u00a0: demandez à l’instruction de vous en envoyer une "
            "nouvelle."
        )
    if state == PREPARED:
        return "Cette invitation n’a pas encore été envoyée."
    if (user.email or "").strip().lower() != invitation.email:
        return (
            "Cette invitation a été envoyée à une autre adresse électronique\u00a0: "
            "connectez-vous avec l’adresse à laquelle vous l’avez reçue."
        )
    organization = user.current_organization
    if organization is None or organization.siret != invitation.siret:
        acting = (
            f"Vous agissez pour {organization.display_name} (SIRET {organization.siret})"
            if organization is not None
            else "Vous n’agissez pour aucune organisation"
        )
        return (
            f"Cette demande a été préparée pour l’organisation de SIRET "
            f"{invitation.siret}. {acting}\u00a0: choisissez cette organisation "
            "dans « Mes organisations », puis rouvrez le lien de l’invitation."
        )
    return None


def claim(invitation: Invitation, user: User) -> AuthorizationRequest:
    """« Reprendre la demande »: a draft of ``user`` for their current organisation with the
    prepared answers; the invitation is consumed in the same transaction. Commits."""
    problem = claim_problem(invitation, user)
    catalog_form = get_catalog().form(invitation.form_uid)
    if problem is None and catalog_form is None:
        problem = "Cette démarche n’existe plus."
    if problem is not None:
        raise InvitationError(problem)
    consumed = db.session.execute(
        update(Invitation)
        .where(
            Invitation.id == invitation.id,
            Invitation.claimed_at.is_(None),
            Invitation.cancelled_at.is_(None),
        )
        .values(claimed_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if consumed.rowcount != 1:  # claimed or cancelled meanwhile
        db.session.rollback()
        raise InvitationError("Cette invitation a déjà été utilisée ou annulée.")
    by_api = invitation.client_id is not None
    authorization_request = new_draft(
        catalog_form,
        applicant=user,
        organization=user.current_organization,
        prefill=invitation.answers,
        event="create_by_api" if by_api else workflow.PREPARED_BY_INSTRUCTION,
        actor=user,
        payload={
            "invitation": invitation.public_reference,
            "client_id": invitation.client_id,
            "prepared_by": invitation.created_by.email if invitation.created_by else None,
            "note": invitation.note,
            "prefilled_keys": sorted(invitation.answers),
            "documents": len(invitation.documents),
        },
    )
    invitation_answers.move_documents(invitation, authorization_request)
    db.session.flush()
    invitation.authorization_request_id = authorization_request.id
    db.session.commit()
    return authorization_request


def page(
    definitions: list[str], *, before: int | None = None
) -> tuple[list[Invitation], int | None]:
    """The invitations of ``definitions``, newest first, keyset by id."""
    query = select(Invitation).where(Invitation.definition_id.in_(definitions))
    if before is not None:
        query = query.where(Invitation.id < before)
    rows = list(db.session.scalars(query.order_by(Invitation.id.desc()).limit(PAGE_SIZE + 1)))
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    return rows, (rows[-1].id if more else None)
