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
from datapass.services import tokens

STALE_MESSAGE = (
    "La demande a été modifiée entre-temps (par le demandeur ou un autre instructeur) : "
    "rechargez la page pour voir sa dernière version avant de décider."
)
REASON_MISSING = "Veuillez indiquer un motif."
# The decisions whose event only moves the request (and may restore a reopening's answers).
PLAIN_DECISIONS = ("request_changes", "refuse", "archive", "cancel_reopening")


class DecisionError(UserError):
    """A decision that cannot be made; ``stale`` when the request changed meanwhile."""

    def __init__(self, message: str, *, stale: bool = False):
        super().__init__(message)
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


def approve(
    authorization_request: AuthorizationRequest, user: User, message: str | None
) -> Authorization:
    """Freeze a new habilitation with its token; the previous active one becomes obsolete."""
    now = utcnow()
    for previous in authorization_request.authorizations:
        if previous.state == AUTHORIZATION_ACTIVE:
            previous.state = AUTHORIZATION_OBSOLETE
            tokens.retire_tokens(previous, now=now)
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
    # No habilitation without its token, in the same transaction.
    tokens.issue(authorization, now=now)
    db.session.flush()
    _transition(
        authorization_request,
        "approve",
        user,
        reason=message,
        payload={"authorization": authorization.id},
    )
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


def restore(authorization_request: AuthorizationRequest) -> None:
    """A refused or cancelled reopening: back to the answers of the validated habilitation."""
    active = [a for a in authorization_request.authorizations if a.is_active]
    if active:
        authorization_request.data = dict(active[-1].data or {})
        authorization_request.intitule = authorization_request.data.get("intitule")


# ---------------------------------------------------------------- decisions (commit)


def decide(
    authorization_request: AuthorizationRequest,
    event: str,
    user: User,
    *,
    version: Any,
    reason: str | None = None,
) -> Authorization | None:
    """Make a decision on ``request`` as an instructor; commit.

    Raises ``DecisionError`` after rolling the session back.
    """
    authorization = None
    with transaction():
        check_version(authorization_request, version)
        reason = (reason or "").strip() or None
        if event == "approve":
            authorization = approve(authorization_request, user, reason)
        elif event == "revoke":
            if not reason:
                raise DecisionError(REASON_MISSING)
            _transition(authorization_request, "revoke", user, reason=reason)
            revoke(authorization_request, reason)
        elif event in PLAIN_DECISIONS:
            was_reopening = authorization_request.is_reopening
            _transition(authorization_request, event, user, reason=reason)
            if event in ("refuse", "cancel_reopening") and was_reopening:
                restore(authorization_request)
        else:
            raise DecisionError("Cette action n’existe pas.")
    return authorization


def revoke_authorization(authorization: Authorization, user: User, *, reason: str) -> None:
    """Revoke one habilitation; the request follows when it held no other active one. Commits.

    Raises ``DecisionError`` after rolling the session back.
    """
    with transaction():
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
