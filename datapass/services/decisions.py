"""Instructors' decisions: approve, request changes, refuse, revoke, archive, cancel a reopening.

Decisions run through ``workflow.apply`` and are protected by optimistic locking: the form
carries the version of the request it was made on; a decision on a stale version, or one
that loses a race (SQLAlchemy's ``version_id_col`` check at flush), is refused with
``DecisionError(stale=True)``. ``decide`` and ``revoke_authorization`` own the transaction:
they commit, or roll back before raising. ``approve``, ``revoke`` and ``restore`` are their
steps and never commit.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy.orm.exc import StaleDataError

from datapass import workflow
from datapass.errors import UserError
from datapass.extensions import db
from datapass.models import Authorization, AuthorizationRequest, User
from datapass.models.authorization import (
    AUTHORIZATION_ACTIVE,
    AUTHORIZATION_OBSOLETE,
    AUTHORIZATION_REVOKED,
)
from datapass.models.base import utcnow
from datapass.models.organization import VERIFIED_BY_INSTRUCTION
from datapass.services import organizations, tokens
from datapass.services.impersonation import forbid_while_impersonating
from datapass.services.reopenings import reopened_authorization, restore

STALE_MESSAGE = (
    "La demande a été modifiée entre-temps (par le demandeur ou un autre instructeur) : "
    "rechargez la page pour voir sa dernière version avant de décider."
)
REASON_MISSING = "Veuillez indiquer un motif."
MEMBERSHIP_CHECK_MISSING = (
    "Le rattachement du demandeur à cette organisation n’est pas vérifié : cochez la case "
    "après avoir vérifié qu’il agit pour cette organisation."
)
# The field of the decision form that carries the instructor's check.
MEMBERSHIP_CHECK_FIELD = "membership_checked"
# The decisions whose event only moves the request (and may restore a reopening's answers).
PLAIN_DECISIONS = ("request_changes", "refuse", "archive", "cancel_reopening")


class DecisionError(UserError):
    """A decision that cannot be made; ``stale`` when the request changed meanwhile."""

    def __init__(self, message: str, *, stale: bool = False, field: str | None = None):
        super().__init__(message, field=field)
        self.stale = stale


def check_version(authorization_request: AuthorizationRequest, version: Any) -> None:
    """Refuse (stale) a decision made on another version of the request than the current one."""
    try:
        seen = int(version)
    except (TypeError, ValueError):
        seen = None
    if seen != authorization_request.version:
        raise DecisionError(STALE_MESSAGE, stale=True)


@contextmanager
def transaction() -> Iterator[None]:
    """The transaction of a decision (or a transfer): committed at the end of the block.

    A refusal (``UserError``) rolls the session back and goes on up; a lost race
    (``StaleDataError``, at the commit or at any flush before it) is rolled back and refused
    as ``DecisionError(stale=True)``.
    """
    try:
        yield
        db.session.commit()
    except StaleDataError as error:
        db.session.rollback()
        raise DecisionError(STALE_MESSAGE, stale=True) from error
    except UserError:
        db.session.rollback()
        raise


def _transition(authorization_request, event, user, *, reason=None, payload=None) -> None:
    try:
        workflow.apply(
            authorization_request,
            event,
            actor=user,
            role=workflow.INSTRUCTOR,
            reason=reason,
            payload=payload,
        )
    except workflow.TransitionError as error:
        raise DecisionError(error.message) from error


# ---------------------------------------------------------------- steps (no commit)


def check_membership(
    authorization_request: AuthorizationRequest, user: User, *, membership_checked: bool, now
) -> bool:
    """An applicant who is not a verified member of the request's organisation: the
    instructor must have checked that they act for it; the approval then verifies the
    membership (by that instructor). Returns whether the check was needed (and made)."""
    if organizations.applicant_is_verified(authorization_request):
        return False
    if workflow.find_rule(authorization_request, "approve", workflow.INSTRUCTOR) is None:
        return False  # not approvable now: the transition refuses it with its own message
    if not membership_checked:
        raise DecisionError(MEMBERSHIP_CHECK_MISSING, field=MEMBERSHIP_CHECK_FIELD)
    membership = organizations.add_membership(
        authorization_request.applicant,
        authorization_request.organization,
        verified=False,
        reason=VERIFIED_BY_INSTRUCTION,
    )
    organizations.mark_verified(membership, VERIFIED_BY_INSTRUCTION, by=user, now=now)
    return True


def approve(
    authorization_request: AuthorizationRequest,
    user: User,
    message: str | None,
    *,
    membership_checked: bool = False,
) -> Authorization:
    """Freeze a new habilitation with its token; the previous active one becomes obsolete.

    An applicant whose membership is not verified needs the instructor's check
    (``membership_checked``), recorded in the event's payload."""
    now = utcnow()
    checked = check_membership(
        authorization_request, user, membership_checked=membership_checked, now=now
    )
    previous_authorizations = [
        previous
        for previous in authorization_request.authorizations
        if previous.state == AUTHORIZATION_ACTIVE
    ]
    for previous in previous_authorizations:
        previous.state = AUTHORIZATION_OBSOLETE
    authorization = Authorization(
        definition_id=authorization_request.definition_id,
        form_uid=authorization_request.form_uid,
        organization=authorization_request.organization,
        applicant=authorization_request.applicant,
        data=dict(authorization_request.data or {}),
        message=message,
        approved_by=user,
        created_at=now,
    )
    authorization.documents.extend(authorization_request.documents)
    authorization_request.authorizations.append(authorization)
    # No habilitation without its token, in the same transaction. An approved reopening
    # keeps the token of the habilitation it changes (API providers expect it), prolonged.
    kept = None
    for previous in previous_authorizations:
        kept = kept or tokens.carry_over(previous, authorization, now=now)
        tokens.retire_tokens(previous, now=now)
    if kept is None:
        tokens.issue(authorization, now=now)
    db.session.flush()
    payload = {"authorization": authorization.id}
    if kept is not None:
        payload["token_kept"] = kept.id
    if checked:
        payload["membership_checked"] = True
    _transition(authorization_request, "approve", user, reason=message, payload=payload)
    authorization_request.events[-1].authorization_id = authorization.id
    return authorization


def _revoke_one(authorization: Authorization, reason: str, now) -> None:
    authorization.state = AUTHORIZATION_REVOKED
    authorization.revoked_at = now
    authorization.revocation_reason = reason
    tokens.revoke_tokens(authorization, now=now)


def revoke(authorization_request: AuthorizationRequest, reason: str) -> None:
    """Revoke every active habilitation of the request, and their tokens."""
    now = utcnow()
    for authorization in authorization_request.authorizations:
        if authorization.is_active:
            _revoke_one(authorization, reason, now)


# ---------------------------------------------------------------- decisions (commit)


def decide(
    authorization_request: AuthorizationRequest,
    event: str,
    user: User,
    *,
    version: Any,
    reason: str | None = None,
    membership_checked: bool = False,
) -> Authorization | None:
    """Make a decision on ``request`` as an instructor; commit.

    ``membership_checked``: for an approval, the instructor ticked « J’ai vérifié que le
    demandeur agit pour cette organisation » (needed when the applicant's membership is not
    verified). Raises ``DecisionError`` after rolling the session back.
    """
    authorization = None
    with transaction():
        forbid_while_impersonating(user)
        check_version(authorization_request, version)
        reason = (reason or "").strip() or None
        if event == "approve":
            authorization = approve(
                authorization_request, user, reason, membership_checked=membership_checked
            )
        elif event == "revoke":
            if not reason:
                raise DecisionError(REASON_MISSING)
            _transition(authorization_request, "revoke", user, reason=reason)
            revoke(authorization_request, reason)
        elif event in PLAIN_DECISIONS:
            reopened = (
                reopened_authorization(authorization_request)
                if authorization_request.is_reopening
                else None
            )
            # A refused reopening: the habilitation stays valid (its own email, no appeal).
            payload = {"reopening": True, "authorization": reopened.id} if reopened else None
            _transition(authorization_request, event, user, reason=reason, payload=payload)
            if event in ("refuse", "cancel_reopening") and reopened is not None:
                restore(authorization_request)
        else:
            raise DecisionError("Cette action n’existe pas.")
    return authorization


def revoke_authorization(authorization: Authorization, user: User, *, reason: str) -> None:
    """Revoke one habilitation; the request follows when it held no other active one. Commits.

    Raises ``DecisionError`` after rolling the session back.
    """
    with transaction():
        forbid_while_impersonating(user)
        reason = (reason or "").strip()
        if not reason:
            raise DecisionError(REASON_MISSING)
        if not authorization.is_active:
            raise DecisionError("Cette habilitation n’est pas active.")
        authorization_request = authorization.request
        others = [
            a
            for a in authorization_request.authorizations
            if a is not authorization and a.is_active
        ]
        if not others and authorization_request.state == workflow.VALIDATED:
            _transition(authorization_request, "revoke", user, reason=reason)
        else:
            authorization_request.record_event(
                "revoke",
                actor=user,
                reason=reason,
                payload={"authorization": authorization.id},
            )
        _revoke_one(authorization, reason, utcnow())
