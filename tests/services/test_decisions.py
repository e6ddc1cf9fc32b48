"""The decision service called directly: approval, staleness, revocation, reopenings."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from datapass import workflow
from datapass.models import ApiToken, Authorization, AuthorizationRequest
from datapass.models.authorization import (
    AUTHORIZATION_ACTIVE,
    AUTHORIZATION_OBSOLETE,
    AUTHORIZATION_REVOKED,
)
from datapass.services import authorization_requests, decisions, submission
from tests.factories import UserFactory
from tests.support.authorization_requests import submitted_request

# request_context (emails' links) and instructor: tests/services/conftest.py
pytestmark = pytest.mark.usefixtures("request_context")


def reload(db, request_id: int) -> AuthorizationRequest:
    db.session.expire_all()
    return db.session.get(AuthorizationRequest, request_id)


def count(db, model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def refusal(call, *args, **kwargs) -> decisions.DecisionError:
    """The refusal ``call`` raises."""
    with pytest.raises(decisions.DecisionError) as refused:
        call(*args, **kwargs)
    return refused.value


def approved_request(instructor, applicant=None) -> AuthorizationRequest:
    request = submitted_request(applicant)
    decisions.decide(request, "approve", instructor, version=request.version)
    return request


def reopened_and_resubmitted(db, request, applicant) -> None:
    authorization_requests.reopen_request(request, applicant)
    form = authorization_requests.get_catalog().form(request.form_uid)
    authorization_requests.write_answers(request, form, {"intitule": "Version 2"})
    db.session.commit()
    result = submission.submit_request(
        request, form, applicant, terms_accepted=True, dpo_informed=True
    )
    assert result.ok, result.errors


# ---------------------------------------------------------------- approval


def test_approval_issues_a_habilitation_and_its_token_together(db, instructor):
    request = submitted_request()
    authorization = decisions.decide(
        request, "approve", instructor, version=request.version, reason="Bienvenue"
    )
    request = reload(db, request.id)
    assert request.state == workflow.VALIDATED and request.last_validated_at
    assert request.authorizations == [authorization]
    assert authorization.state == AUTHORIZATION_ACTIVE and authorization.is_active
    assert authorization.data == request.data and authorization.message == "Bienvenue"
    assert authorization.approved_by_id == instructor.id
    [token] = authorization.tokens
    assert token.revoked_at is None and token.scopes == request.data["scopes"]
    event = request.events[-1]
    assert event.name == "approve" and event.authorization_id == authorization.id
    assert event.payload["authorization"] == authorization.id


def test_an_approval_that_fails_leaves_neither_habilitation_nor_token(db, instructor):
    request = submitted_request()
    decisions.decide(request, "refuse", instructor, version=request.version, reason="Non")
    authorizations, tokens = count(db, Authorization), count(db, ApiToken)
    with pytest.raises(decisions.DecisionError) as refused:
        # The habilitation and its token are flushed before the workflow refuses the event.
        decisions.decide(request, "approve", instructor, version=request.version)
    assert not refused.value.stale
    assert refused.value.message == (
        "Cette action n’est pas possible sur cette demande dans son état actuel."
    )
    assert (count(db, Authorization), count(db, ApiToken)) == (authorizations, tokens)
    assert reload(db, request.id).state == workflow.REFUSED


def test_a_second_approval_makes_the_first_habilitation_obsolete(db, instructor):
    applicant = UserFactory()
    request = approved_request(instructor, applicant)
    reopened_and_resubmitted(db, request, applicant)
    decisions.decide(request, "approve", instructor, version=request.version)
    first, second = reload(db, request.id).authorizations
    assert (first.state, second.state) == (AUTHORIZATION_OBSOLETE, AUTHORIZATION_ACTIVE)
    assert second.data["intitule"] == "Version 2"


# ---------------------------------------------------------------- staleness


def test_a_stale_version_is_refused_and_nothing_changes(db, instructor):
    request = submitted_request()
    version, events = request.version, len(request.events)
    with pytest.raises(decisions.DecisionError) as refused:
        decisions.decide(request, "approve", instructor, version=version - 1)
    assert refused.value.stale and refused.value.message == decisions.STALE_MESSAGE
    request = reload(db, request.id)
    assert request.state == workflow.SUBMITTED and request.version == version
    assert len(request.events) == events and request.authorizations == []


@pytest.mark.parametrize("version", [None, "", "abc"])
def test_a_missing_or_garbled_version_is_stale(db, instructor, version):
    request = submitted_request()
    with pytest.raises(decisions.DecisionError) as refused:
        decisions.decide(request, "refuse", instructor, version=version, reason="Non")
    assert refused.value.stale
    assert reload(db, request.id).state == workflow.SUBMITTED


def test_a_decision_losing_a_race_is_rolled_back_as_stale(db, instructor):
    request = submitted_request()
    seen = request.version
    # Somebody else changes the request after this page was loaded.
    db.session.execute(
        AuthorizationRequest.__table__.update()
        .where(AuthorizationRequest.id == request.id)
        .values(version=AuthorizationRequest.version + 1)
    )
    with pytest.raises(decisions.DecisionError) as refused:
        decisions.decide(request, "refuse", instructor, version=seen, reason="Non")
    assert refused.value.stale
    # (The tests share one connection: the rollback also undoes the concurrent UPDATE.)
    request = reload(db, request.id)
    assert request.state == workflow.SUBMITTED
    assert [e.name for e in request.events if e.name == "refuse"] == []


def test_an_unknown_decision_is_refused(db, instructor):
    request = submitted_request()
    assert (
        refusal(
            decisions.decide, request, "submit_twice", instructor, version=request.version
        ).message
        == "Cette action n’existe pas."
    )


# ---------------------------------------------------------------- revocation


def test_revocation_requires_a_reason_then_revokes_habilitations_and_tokens(db, instructor):
    request = approved_request(instructor)
    for reason in (None, "", "   "):
        assert (
            refusal(
                decisions.decide,
                request,
                "revoke",
                instructor,
                version=request.version,
                reason=reason,
            ).message
            == "Veuillez indiquer un motif."
        )
        request = reload(db, request.id)
        assert request.state == workflow.VALIDATED and request.authorizations[0].is_active
    decisions.decide(request, "revoke", instructor, version=request.version, reason="Fin")
    request = reload(db, request.id)
    assert request.state == workflow.REVOKED
    [authorization] = request.authorizations
    assert authorization.state == AUTHORIZATION_REVOKED
    assert authorization.revoked_at and authorization.revocation_reason == "Fin"
    assert all(t.revoked_at and t.sealed_value is None for t in authorization.tokens)
    assert request.events[-1].name == "revoke" and request.events[-1].reason == "Fin"


def _second_active_habilitation(request: AuthorizationRequest, db) -> Authorization:
    """A second active habilitation on the same request (as imported from DataPass v1)."""
    from datapass.services import tokens

    second = Authorization(
        definition_id=request.definition_id,
        form_uid=request.form_uid,
        organization=request.organization,
        applicant=request.applicant,
        data=dict(request.data),
    )
    request.authorizations.append(second)
    tokens.issue(second)
    db.session.commit()
    return second


def test_revoking_one_of_two_habilitations_keeps_the_request_validated(db, instructor):
    request = approved_request(instructor)
    first = request.authorizations[0]
    second = _second_active_habilitation(request, db)
    decisions.revoke_authorization(first, instructor, reason="Abus")
    request = reload(db, request.id)
    first, second = request.authorizations
    assert request.state == workflow.VALIDATED
    assert first.state == AUTHORIZATION_REVOKED and first.revocation_reason == "Abus"
    assert all(t.revoked_at for t in first.tokens)
    assert second.is_active and all(t.revoked_at is None for t in second.tokens)
    event = request.events[-1]
    assert event.name == "revoke" and event.payload == {"authorization": first.id}
    # The last active one takes the request with it.
    decisions.revoke_authorization(second, instructor, reason="Fin")
    request = reload(db, request.id)
    assert request.state == workflow.REVOKED
    assert [a.state for a in request.authorizations] == [AUTHORIZATION_REVOKED] * 2


def test_revoking_one_habilitation_needs_a_reason_and_an_active_one(db, instructor):
    request = approved_request(instructor)
    authorization = request.authorizations[0]
    assert (
        refusal(decisions.revoke_authorization, authorization, instructor, reason=" ").message
        == "Veuillez indiquer un motif."
    )
    assert reload(db, request.id).authorizations[0].is_active
    decisions.revoke_authorization(authorization, instructor, reason="Fin")
    assert (
        refusal(decisions.revoke_authorization, authorization, instructor, reason="Encore").message
        == "Cette habilitation n’est pas active."
    )


# ---------------------------------------------------------------- reopenings


@pytest.mark.parametrize("event", ["refuse", "cancel_reopening"])
def test_refusing_a_reopening_restores_the_validated_answers(db, instructor, event):
    applicant = UserFactory()
    request = approved_request(instructor, applicant)
    validated = dict(request.authorizations[0].data)
    reopened_and_resubmitted(db, request, applicant)
    assert reload(db, request.id).data["intitule"] == "Version 2"
    request = reload(db, request.id)
    decisions.decide(request, event, instructor, version=request.version, reason="Non")
    request = reload(db, request.id)
    assert request.state == workflow.VALIDATED
    assert request.data == validated and request.intitule == validated["intitule"]
    [authorization] = request.authorizations
    assert authorization.is_active


def test_refusing_a_first_request_keeps_its_answers(db, instructor):
    request = submitted_request(intitule="Cantine")
    decisions.decide(request, "refuse", instructor, version=request.version, reason="Non")
    request = reload(db, request.id)
    assert request.state == workflow.REFUSED and request.data["intitule"] == "Cantine"
