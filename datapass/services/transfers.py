"""Handing a request over to another verified member of its organisation.

One service for both sides: the applicant hands their request to a colleague, an
instructor moves it to another agent. The transfer is not a transition (the state does
not change) but a timeline event, ``workflow.TRANSFER``, that sends the new applicant an
email.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from datapass import permissions, workflow
from datapass.errors import UserError
from datapass.extensions import db
from datapass.models import AuthorizationRequest, Organization, User
from datapass.models.audit import REQUEST_TRANSFERRED
from datapass.services import audit, decisions
from datapass.siret import InvalidSiret, normalize, validate_siret

# One message whether the address has no account or is not a verified member: the form
# must not tell who uses DataPass.
NOT_A_MEMBER = (
    "Le nouveau demandeur doit être un membre vérifié de l’organisation de la demande\u00a0: "
    "la personne doit s’être connectée au moins une fois à DataPass avec cette organisation."
)
UNKNOWN_EMAIL = NOT_A_MEMBER
SAME_APPLICANT = "Cette personne est déjà la demandeuse ou le demandeur."
# A transfer the workflow refuses, in the words each side has always read.
NOT_ALLOWED = {
    workflow.INSTRUCTOR: "Cette demande ne peut pas être transférée dans son état actuel.",
}
NOT_ALLOWED_DEFAULT = "Vous ne pouvez pas transférer cette demande."


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == email.strip().lower()))


def _check(
    authorization_request: AuthorizationRequest, new_applicant: User | None, role: str
) -> User:
    if not workflow.can_transfer(authorization_request, role):
        raise UserError(NOT_ALLOWED.get(role, NOT_ALLOWED_DEFAULT))
    if new_applicant is None:
        raise UserError(UNKNOWN_EMAIL, field="email")
    if new_applicant.id == authorization_request.applicant_id:
        raise UserError(SAME_APPLICANT, field="email")
    if authorization_request.organization_id not in new_applicant.verified_organization_ids:
        raise UserError(NOT_A_MEMBER, field="email")
    return new_applicant


def transfer_request(
    authorization_request: AuthorizationRequest,
    actor: User,
    new_applicant_email_or_user: str | User | None,
    *,
    role: str,
    version: Any = None,
) -> User:
    """Make ``new_applicant_email_or_user`` the applicant of the request, as ``role``; commit.

    ``role`` is the actor's workflow role on the request (``permissions.workflow_role``).
    With ``version`` (the instructors' page carries it), a request changed meanwhile is
    refused as stale. Returns the new applicant. Raises ``UserError`` (``DecisionError``
    when stale) after rolling the session back.
    """
    new_applicant = new_applicant_email_or_user
    with decisions.transaction():
        if version is not None:
            decisions.check_version(authorization_request, version)
        if isinstance(new_applicant, str):
            new_applicant = find_user_by_email(new_applicant)
        new_applicant = _check(authorization_request, new_applicant, role)
        previous = authorization_request.applicant
        authorization_request.applicant = new_applicant
        authorization_request.record_event(
            workflow.TRANSFER,
            actor=actor,
            payload={"from": previous.email, "to": new_applicant.email},
        )
    return new_applicant


CANNOT_TAKE_OVER = (
    "Vous ne pouvez pas reprendre cette demande\u00a0: il faut être un membre vérifié de son "
    "organisation, et la demande doit avoir été déposée."
)


def take_over(authorization_request: AuthorizationRequest, user: User) -> None:
    """« Reprendre la demande »: a verified colleague becomes its applicant; commits.

    Recorded on the timeline as a transfer (``taken_over`` in its payload), which emails the
    previous applicant. The new applicant then holds the habilitation's token.
    """
    with decisions.transaction():
        if not permissions.can_take_over(user, authorization_request):
            raise UserError(CANNOT_TAKE_OVER)
        previous = authorization_request.applicant
        authorization_request.applicant = user
        authorization_request.record_event(
            workflow.TRANSFER,
            actor=user,
            payload={"from": previous.email, "to": user.email, "taken_over": True},
        )


# ---------------------------------------------------------------- administrators' transfer

UNKNOWN_ORGANIZATION = (
    "Aucune organisation de ce SIRET n’est connue de DataPass\u00a0: un de ses agents doit "
    "s’être connecté au moins une fois avec elle."
)
SAME_ORGANIZATION = "La demande appartient déjà à cette organisation."
NOT_A_MEMBER_OF_TARGET = (
    "Le nouveau demandeur doit être un membre vérifié de l’organisation de destination."
)
TRANSFER_REASON_MISSING = "Indiquez le motif du transfert\u00a0: il est conservé."


def transfer_to_organization(
    authorization_request: AuthorizationRequest,
    admin: User,
    *,
    siret: str,
    email: str,
    reason: str,
) -> Organization:
    """An administrator moves the request, and its habilitations, to another organisation,
    with a verified member of it as the applicant; the reason is mandatory. Recorded on
    the timeline (a transfer: both applicants are emailed) and in the audit log. Commits;
    raises ``UserError`` naming the field (``siret``, ``email``, ``reason``)."""
    with decisions.transaction():
        reason = (reason or "").strip()
        if not reason:
            raise UserError(TRANSFER_REASON_MISSING, field="reason")
        siret = normalize(siret)
        organization = db.session.scalar(select(Organization).where(Organization.siret == siret))
        if organization is None:
            try:
                validate_siret(siret)
            except InvalidSiret as error:
                raise UserError(error.message, field="siret") from error
            raise UserError(UNKNOWN_ORGANIZATION, field="siret")
        previous_organization = authorization_request.organization
        if organization.id == previous_organization.id:
            raise UserError(SAME_ORGANIZATION, field="siret")
        new_applicant = find_user_by_email(email or "")
        if new_applicant is None or organization.id not in new_applicant.verified_organization_ids:
            raise UserError(NOT_A_MEMBER_OF_TARGET, field="email")
        previous = authorization_request.applicant
        authorization_request.organization = organization
        authorization_request.applicant = new_applicant
        for authorization in authorization_request.authorizations:
            authorization.organization = organization
            authorization.applicant = new_applicant
        details = {"from_siret": previous_organization.siret, "to_siret": organization.siret}
        authorization_request.record_event(
            workflow.TRANSFER,
            actor=admin,
            reason=reason,
            payload={"from": previous.email, "to": new_applicant.email, **details},
        )
        audit.record(
            REQUEST_TRANSFERRED,
            actor=admin,
            reason=reason,
            target_user=new_applicant,
            organization_id=previous_organization.id,
            authorization_request_id=authorization_request.id,
            details=details,
        )
    return organization
