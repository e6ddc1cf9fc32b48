"""Model constraints that the database itself enforces."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from datapass import workflow
from tests.factories import AuthorizationRequestFactory, UserFactory


def test_public_references(db):
    request = AuthorizationRequestFactory()
    assert request.public_reference == f"D{request.id}"
    assert len(request.public_id) == 36
    assert request.state == workflow.DRAFT
    assert request.state_label == "Brouillon"


def test_state_check_constraint_rejects_unknown_states(db):
    request = AuthorizationRequestFactory()
    with pytest.raises(IntegrityError), db.session.begin_nested():
        db.session.execute(
            text("UPDATE authorization_requests SET state = 'pending' WHERE id = :id"),
            {"id": request.id},
        )


def test_optimistic_locking_refuses_a_stale_update(app, db):
    request = AuthorizationRequestFactory()
    db.session.flush()
    assert request.version == 1
    # Another instructor changed the request meanwhile.
    db.session.execute(
        text("UPDATE authorization_requests SET version = version + 1 WHERE id = :id"),
        {"id": request.id},
    )
    request.intitule = "Nouveau nom"
    with pytest.raises(StaleDataError):
        db.session.flush()


def test_roles_follow_the_hierarchy(db):
    user = UserFactory(roles=["api_particulier:manager", "api_entreprise:developer"])
    assert user.has_role("api_particulier", "instructor")
    assert user.has_role("api_particulier", "reporter")
    assert not user.has_role("api_particulier", "developer")
    assert user.has_role("api_entreprise", "reporter")
    assert not user.has_role("api_entreprise", "instructor")
    assert user.definitions_with_role("reporter") == {"api_particulier", "api_entreprise"}
    admin = UserFactory(roles=["admin"])
    assert admin.has_role("api_particulier", "manager")


def test_timeline_event_is_appended_without_commit(db):
    request = AuthorizationRequestFactory()
    workflow.apply(request, "submit", actor=request.applicant, role=workflow.APPLICANT)
    db.session.flush()
    assert [event.name for event in request.events] == ["submit"]
    assert request.events[0].user == request.applicant
    assert request.last_submitted_at is not None
