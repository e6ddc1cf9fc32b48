"""The state machine: every state × event × role, in every context that changes the answer."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest

from datapass import workflow as wf

T0 = datetime(2026, 1, 1, tzinfo=UTC)
NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


@dataclass
class FakeRequest:
    """Shaped like AuthorizationRequest, without the database."""

    state: str
    last_validated_at: datetime | None = None
    reopened_at: datetime | None = None
    last_submitted_at: datetime | None = None
    active_authorization: bool = False
    events: list = field(default_factory=list)

    @property
    def is_reopening(self):
        return (
            self.last_validated_at is not None
            and self.reopened_at is not None
            and self.state not in (wf.VALIDATED, wf.REVOKED)
        )

    @property
    def has_active_authorization(self):
        return self.active_authorization

    @property
    def latest_authorization_is_active(self):
        return self.active_authorization

    def record_event(self, name, *, actor, reason, at, payload):
        self.events.append((name, actor, reason, at, payload))


# Contexts: (validated before, reopened, latest authorization active)
CONTEXTS = {
    "new": (False, False, False),
    "reopened": (True, True, True),
    "validated_before": (True, False, True),
    "all_revoked": (True, False, False),
}


def make(state, context):
    validated, reopened, active = CONTEXTS[context]
    return FakeRequest(
        state=state,
        last_validated_at=T0 if validated else None,
        reopened_at=T0 if reopened else None,
        active_authorization=active,
    )


def expected(state, event, role, context):
    """The lifecycle of workflow.md §3, written independently of the module's table."""
    reopening = context == "reopened" and state not in (wf.VALIDATED, wf.REVOKED)
    active = CONTEXTS[context][2]
    if event == "submit" and role == wf.APPLICANT:
        if state in (wf.DRAFT, wf.CHANGES_REQUESTED) or (state == wf.REFUSED and reopening):
            return wf.SUBMITTED
    if event == "request_changes" and role == wf.INSTRUCTOR and state == wf.SUBMITTED:
        return wf.CHANGES_REQUESTED
    if event == "approve" and role == wf.INSTRUCTOR:
        if state in (wf.SUBMITTED, wf.CHANGES_REQUESTED):
            return wf.VALIDATED
    if event == "refuse" and role == wf.INSTRUCTOR:
        if state in (wf.SUBMITTED, wf.CHANGES_REQUESTED):
            return wf.VALIDATED if reopening else wf.REFUSED
    if event == "archive" and role == wf.APPLICANT and not active:
        if state in (wf.DRAFT, wf.REFUSED, wf.REVOKED):
            return wf.ARCHIVED
    if event == "archive" and role == wf.INSTRUCTOR and not active:
        if state in (wf.REFUSED, wf.REVOKED):  # never an applicant's unsubmitted draft
            return wf.ARCHIVED
    if event == "archive" and role == wf.SYSTEM and not active and not reopening:
        if state == wf.CHANGES_REQUESTED:  # unanswered changes, after the warning
            return wf.ARCHIVED
    if event == "reopen" and role == wf.APPLICANT and state == wf.VALIDATED and active:
        return wf.DRAFT
    if event == "cancel_reopening" and reopening:
        if role == wf.APPLICANT and state in (wf.DRAFT, wf.CHANGES_REQUESTED):
            return wf.VALIDATED
        if role == wf.INSTRUCTOR and state in (wf.DRAFT, wf.CHANGES_REQUESTED, wf.SUBMITTED):
            return wf.VALIDATED
    if event == "revoke" and role == wf.INSTRUCTOR and state == wf.VALIDATED:
        return wf.REVOKED
    return None


REASON_REQUIRED = {
    ("request_changes", wf.INSTRUCTOR),
    ("refuse", wf.INSTRUCTOR),
    ("revoke", wf.INSTRUCTOR),
    ("cancel_reopening", wf.INSTRUCTOR),
}


@pytest.mark.parametrize("context", CONTEXTS)
@pytest.mark.parametrize("role", wf.ROLES)
@pytest.mark.parametrize("event", wf.EVENTS)
@pytest.mark.parametrize("state", wf.STATES)
def test_transition_matrix(state, event, role, context):
    request = make(state, context)
    target = expected(state, event, role, context)
    assert (event in wf.allowed_events(request, role)) == (target is not None)

    needs_reason = (event, role) in REASON_REQUIRED
    if target is None:
        with pytest.raises(wf.TransitionError) as error:
            wf.apply(request, event, actor="someone", role=role, reason="Motif", now=NOW)
        assert error.value.code == "not_allowed"
        assert request.state == state
        assert request.events == []
        return

    if needs_reason:
        with pytest.raises(wf.TransitionError) as error:
            wf.apply(request, event, actor="someone", role=role, reason="  ", now=NOW)
        assert error.value.code == "reason_required"
        assert "motif" in error.value.message
        assert request.state == state

    new_state = wf.apply(request, event, actor="someone", role=role, reason=" Motif ", now=NOW)
    assert new_state == target == request.state
    [(name, actor, reason, at, payload)] = request.events
    assert (name, actor, reason, at) == (event, "someone", "Motif", NOW)
    assert payload == {"from": state, "to": target}


def test_apply_stamps_dates():
    request = make(wf.DRAFT, "new")
    wf.apply(request, "submit", actor=None, role=wf.APPLICANT, now=NOW)
    assert request.last_submitted_at == NOW
    wf.apply(request, "approve", actor=None, role=wf.INSTRUCTOR, now=NOW)
    assert request.last_validated_at == NOW
    request.active_authorization = True
    wf.apply(request, "reopen", actor=None, role=wf.APPLICANT, now=NOW)
    assert request.reopened_at == NOW
    assert request.is_reopening


def test_optional_reason_is_kept_on_approval():
    request = make(wf.SUBMITTED, "new")
    wf.apply(request, "approve", actor=None, role=wf.INSTRUCTOR, reason="Bienvenue", now=NOW)
    assert request.events[0][2] == "Bienvenue"


def test_unknown_event_is_refused():
    with pytest.raises(wf.TransitionError) as error:
        wf.apply(make(wf.DRAFT, "new"), "explode", actor=None, role=wf.APPLICANT)
    assert error.value.code == "unknown_event"


@pytest.mark.parametrize(
    ("state", "context", "role", "allowed"),
    [
        (wf.DRAFT, "new", wf.APPLICANT, False),  # a plain draft cannot be transferred
        (wf.DRAFT, "reopened", wf.APPLICANT, True),
        (wf.SUBMITTED, "new", wf.APPLICANT, True),
        (wf.SUBMITTED, "new", wf.INSTRUCTOR, True),
        (wf.VALIDATED, "validated_before", wf.INSTRUCTOR, True),
        (wf.SUBMITTED, "new", wf.REPORTER, False),
        (wf.SUBMITTED, "new", wf.MEMBER, False),
        (wf.SUBMITTED, "new", wf.STRANGER, False),
        (wf.ARCHIVED, "new", wf.INSTRUCTOR, False),
    ],
)
def test_transfer_is_not_a_transition(state, context, role, allowed):
    assert wf.can_transfer(make(state, context), role) is allowed


@pytest.mark.parametrize("state", wf.STATES)
@pytest.mark.parametrize("context", ["new", "reopened", "validated_before"])
@pytest.mark.parametrize("role", wf.ROLES)
def test_only_a_member_takes_over_what_could_be_transferred(state, context, role):
    request = make(state, context)
    expected = role == wf.MEMBER and wf.can_transfer(request, wf.APPLICANT)
    assert wf.can_take_over(request, role) is expected


def test_every_state_and_event_has_a_french_label():
    assert set(wf.STATE_LABELS) == set(wf.STATES)
    assert set(wf.EVENTS) <= set(wf.EVENT_LABELS)
