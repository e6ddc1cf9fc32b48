"""The request lifecycle as a table: states, events, who may trigger them, which need a reason.

Pure Python, no Flask: ``apply`` works on any object shaped like an authorization
request (``state``, the date columns, ``is_reopening``, ``has_active_authorization``,
``latest_authorization_is_active`` and ``record_event``). Permissions decide which
*workflow role* a user holds on a request; this module decides what that role may do.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

# States
DRAFT = "draft"
SUBMITTED = "submitted"
CHANGES_REQUESTED = "changes_requested"
VALIDATED = "validated"
REFUSED = "refused"
ARCHIVED = "archived"
REVOKED = "revoked"
# CRPA (articles L231-1, L231-4): two months of silence after a complete submission mean
# rejection. Each submission (a resubmission after changes requested too) starts it again.
DECISION_MONTHS = 2


def add_months(moment: datetime, months: int) -> datetime:
    """``months`` calendar months after ``moment`` (the last day of a shorter month)."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def decision_deadline(submitted_at: datetime) -> datetime:
    """Two calendar months after ``submitted_at`` (the last day of a shorter month)."""
    return add_months(submitted_at, DECISION_MONTHS)


STATES = (DRAFT, SUBMITTED, CHANGES_REQUESTED, VALIDATED, REFUSED, ARCHIVED, REVOKED)

STATE_LABELS = {
    DRAFT: "Brouillon",
    SUBMITTED: "En cours d’instruction",
    CHANGES_REQUESTED: "Modifications demandées",
    VALIDATED: "Validée",
    REFUSED: "Refusée",
    ARCHIVED: "Supprimée",
    REVOKED: "Révoquée",
}
# The DSFR badge kind of each state (templates/_state_badges.html); None: the plain badge.
# The label says the state, the colour only repeats it.
STATE_BADGES = {
    DRAFT: "new",
    SUBMITTED: "info",
    CHANGES_REQUESTED: "warning",
    VALIDATED: "success",
    REFUSED: "error",
    ARCHIVED: None,
    REVOKED: "error",
}
# The applicant may edit the answers in these states.
EDITABLE_STATES = frozenset({DRAFT, CHANGES_REQUESTED})
FINAL_STATES = frozenset({VALIDATED, REFUSED, ARCHIVED, REVOKED})

# Workflow roles: what a user is *for this request* (computed in permissions.py).
APPLICANT = "applicant"  # the request's applicant, signed in with the request's organisation
INSTRUCTOR = "instructor"  # instructor (or manager, or admin) of the request's definition
REPORTER = "reporter"  # read-only access to the definition's requests
MEMBER = "member"  # another verified member of the organisation
STRANGER = "stranger"  # anybody else
# DataPass itself, in a periodic task (services/reminders.py): no user holds this role.
SYSTEM = "system"
ROLES = (APPLICANT, INSTRUCTOR, REPORTER, MEMBER, STRANGER, SYSTEM)

# Events that are not transitions but are recorded on the timeline.
TRANSFER = "transfer"


class TransitionError(Exception):
    """The event cannot happen now; ``message`` is in French, for the user."""

    def __init__(self, message: str, *, code: str):
        super().__init__(message)
        self.message = message
        self.code = code


def _always(_request: Any) -> bool:
    return True


def _reopening(authorization_request: Any) -> bool:
    return bool(authorization_request.is_reopening)


def _not_reopening(authorization_request: Any) -> bool:
    return not authorization_request.is_reopening


def _can_archive(authorization_request: Any) -> bool:
    return not authorization_request.has_active_authorization


def _can_archive_unanswered(authorization_request: Any) -> bool:
    """Never a reopening: the validated habilitation behind it stays as it is."""
    return _not_reopening(authorization_request) and _can_archive(authorization_request)


def _can_reopen(authorization_request: Any) -> bool:
    return (
        authorization_request.latest_authorization_is_active
        and not authorization_request.is_reopening
    )


@dataclass(frozen=True)
class Rule:
    """One row of the table: from these states, these roles move the request to ``to``."""

    from_states: frozenset[str]
    to: str
    roles: frozenset[str]
    when: Callable[[Any], bool] = _always
    # Roles that must give a reason (a message for the applicant, kept on the timeline).
    reason_required_for: frozenset[str] = field(default_factory=frozenset)


def _rule(from_states, to, roles, when=_always, reason_required_for=()):
    return Rule(frozenset(from_states), to, frozenset(roles), when, frozenset(reason_required_for))


# {event: rules}; the first rule whose states, roles and condition match applies.
TRANSITIONS: dict[str, tuple[Rule, ...]] = {
    "submit": (
        _rule({DRAFT, CHANGES_REQUESTED}, SUBMITTED, {APPLICANT}),
        _rule({REFUSED}, SUBMITTED, {APPLICANT}, when=_reopening),
    ),
    "request_changes": (
        _rule({SUBMITTED}, CHANGES_REQUESTED, {INSTRUCTOR}, reason_required_for={INSTRUCTOR}),
    ),
    "approve": (_rule({SUBMITTED, CHANGES_REQUESTED}, VALIDATED, {INSTRUCTOR}),),
    "refuse": (
        # Refusing a reopening keeps the habilitation that was validated before.
        _rule(
            {SUBMITTED, CHANGES_REQUESTED},
            VALIDATED,
            {INSTRUCTOR},
            when=_reopening,
            reason_required_for={INSTRUCTOR},
        ),
        _rule(
            {SUBMITTED, CHANGES_REQUESTED},
            REFUSED,
            {INSTRUCTOR},
            when=_not_reopening,
            reason_required_for={INSTRUCTOR},
        ),
    ),
    "archive": (
        _rule({DRAFT, REFUSED, REVOKED}, ARCHIVED, {APPLICANT}, when=_can_archive),
        # An instructor never deletes a draft the applicant has not submitted.
        _rule({REFUSED, REVOKED}, ARCHIVED, {INSTRUCTOR}, when=_can_archive),
        # Changes requested, unanswered after the warning: archived by the periodic task.
        _rule({CHANGES_REQUESTED}, ARCHIVED, {SYSTEM}, when=_can_archive_unanswered),
    ),
    "reopen": (_rule({VALIDATED}, DRAFT, {APPLICANT}, when=_can_reopen),),
    "cancel_reopening": (
        _rule({DRAFT, CHANGES_REQUESTED}, VALIDATED, {APPLICANT}, when=_reopening),
        _rule(
            {DRAFT, CHANGES_REQUESTED, SUBMITTED},
            VALIDATED,
            {INSTRUCTOR},
            when=_reopening,
            reason_required_for={INSTRUCTOR},
        ),
    ),
    "revoke": (_rule({VALIDATED}, REVOKED, {INSTRUCTOR}, reason_required_for={INSTRUCTOR}),),
}
EVENTS = tuple(TRANSITIONS)

# The first event of a draft claimed from an instructor's invitation (services/invitations).
PREPARED_BY_INSTRUCTION = "prepared_by_instruction"

EVENT_LABELS = {
    "create": "Création de la demande",
    "update": "Mise à jour de la demande",
    "submit": "Soumission de la demande",
    "request_changes": "Demande de modifications",
    "approve": "Validation de la demande",
    "refuse": "Refus de la demande",
    "archive": "Suppression de la demande",
    "reopen": "Réouverture de la demande",
    "cancel_reopening": "Annulation de la réouverture",
    "revoke": "Révocation de l’habilitation",
    TRANSFER: "Transfert de la demande",
    "update_contacts": "Mise à jour des contacts de l’habilitation",
    "applicant_message": "Message du demandeur",
    "instructor_message": "Message de l’instructeur",
    "create_by_api": "Création de la demande par API",
    PREPARED_BY_INSTRUCTION: "Demande préparée par l’instruction, reprise par le demandeur",
    "update_by_api": "Mise à jour de la demande par API",
    "draft_reminder": "Relance du brouillon",
    "changes_reminder": "Relance\u00a0: modifications attendues",
    "archive_warning": "Avertissement avant archivage",
    "purge": "Purge des données personnelles",
}

# Who may transfer (not a transition): the applicant or an instructor, except a plain draft.
TRANSFER_ROLES = frozenset({APPLICANT, INSTRUCTOR})


def find_rule(authorization_request: Any, event: str, role: str) -> Rule | None:
    for rule in TRANSITIONS.get(event, ()):
        if (
            authorization_request.state in rule.from_states
            and role in rule.roles
            and rule.when(authorization_request)
        ):
            return rule
    return None


def allowed_events(authorization_request: Any, role: str) -> list[str]:
    """The events ``role`` may trigger on ``request`` now, in table order (for the UI)."""
    return [event for event in EVENTS if find_rule(authorization_request, event, role) is not None]


def can_transfer(authorization_request: Any, role: str) -> bool:
    if role not in TRANSFER_ROLES or authorization_request.state == ARCHIVED:
        return False
    return authorization_request.state != DRAFT or bool(authorization_request.is_reopening)


def can_take_over(authorization_request: Any, role: str) -> bool:
    """« Reprendre la demande »: a verified colleague (``MEMBER``) becomes the applicant of a
    request that has been submitted at least once and is not deleted (plain drafts stay
    their author's)."""
    return can_transfer(authorization_request, APPLICANT) and role == MEMBER


def reason_required(authorization_request: Any, event: str, role: str) -> bool:
    rule = find_rule(authorization_request, event, role)
    return rule is not None and role in rule.reason_required_for


def apply(
    authorization_request: Any,
    event: str,
    *,
    actor: Any,
    role: str,
    reason: str | None = None,
    now: datetime | None = None,
    payload: dict | None = None,
) -> str:
    """Check, move the request to its new state, stamp dates, append the timeline event.

    Returns the new state. Raises ``TransitionError`` (French message) when the event
    is unknown, not allowed from this state for this role, or lacks a required reason.
    Does not commit: services own the transaction.
    """
    if event not in TRANSITIONS:
        raise TransitionError("Cette action n’existe pas.", code="unknown_event")
    rule = find_rule(authorization_request, event, role)
    if rule is None:
        raise TransitionError(
            "Cette action n’est pas possible sur cette demande dans son état actuel.",
            code="not_allowed",
        )
    reason = (reason or "").strip() or None
    if role in rule.reason_required_for and not reason:
        raise TransitionError("Veuillez indiquer un motif.", code="reason_required")

    now = now or datetime.now(UTC)
    previous = authorization_request.state
    authorization_request.state = rule.to
    if event == "submit":
        authorization_request.last_submitted_at = now
        authorization_request.decision_deadline = decision_deadline(now)
    elif event == "approve":
        authorization_request.last_validated_at = now
    elif event == "reopen":
        authorization_request.reopened_at = now
    authorization_request.record_event(
        event,
        actor=actor,
        reason=reason,
        at=now,
        payload={"from": previous, "to": rule.to, **(payload or {})},
    )
    return rule.to
