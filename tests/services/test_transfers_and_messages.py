"""Transfers and messages: one service for both sides, each refusal."""

from __future__ import annotations

import pytest

from datapass import workflow
from datapass.errors import UserError
from datapass.models import AuthorizationRequest, Membership
from datapass.models.message import APPLICANT_SIDE, INSTRUCTOR_SIDE
from datapass.services import decisions, messaging, transfers
from tests.factories import OrganizationFactory, UserFactory
from tests.support.authorization_requests import submitted_request

NOT_ALLOWED_FOR_APPLICANT = "Vous ne pouvez pas transférer cette demande."
NOT_ALLOWED_FOR_INSTRUCTOR = "Cette demande ne peut pas être transférée dans son état actuel."


# request_context (emails' links) and instructor: tests/services/conftest.py
pytestmark = pytest.mark.usefixtures("request_context")


@pytest.fixture
def request_and_colleague(db):
    """A submitted request, and a verified member of its organisation."""
    request = submitted_request()
    colleague = UserFactory(current_organization=request.organization)
    db.session.commit()
    return request, colleague


def reload(db, request_id: int) -> AuthorizationRequest:
    db.session.expire_all()
    return db.session.get(AuthorizationRequest, request_id)


def transfer_events(request: AuthorizationRequest) -> list:
    return [e for e in request.events if e.name == workflow.TRANSFER]


# ---------------------------------------------------------------- transfers


def test_the_applicant_hands_the_request_to_a_colleague_by_email(db, request_and_colleague):
    request, colleague = request_and_colleague
    applicant = request.applicant
    typed = f"  {colleague.email.upper()} "
    new_applicant = transfers.transfer_request(request, applicant, typed, role=workflow.APPLICANT)
    assert new_applicant == colleague
    request = reload(db, request.id)
    assert request.applicant_id == colleague.id
    [event] = transfer_events(request)
    assert event.user_id == applicant.id
    assert event.payload == {"from": applicant.email, "to": colleague.email}


def test_an_instructor_moves_the_request_to_another_agent(db, request_and_colleague, instructor):
    request, colleague = request_and_colleague
    previous = request.applicant.email
    transfers.transfer_request(
        request, instructor, colleague, role=workflow.INSTRUCTOR, version=request.version
    )
    request = reload(db, request.id)
    assert request.applicant_id == colleague.id
    [event] = transfer_events(request)
    assert event.user_id == instructor.id
    assert event.payload == {"from": previous, "to": colleague.email}


def test_a_reopened_validated_request_can_be_transferred(db, request_and_colleague, instructor):
    from datapass.services import authorization_requests

    request, colleague = request_and_colleague
    decisions.decide(request, "approve", instructor, version=request.version)
    authorization_requests.reopen_request(request, request.applicant)
    assert request.state == workflow.DRAFT and request.is_reopening
    transfers.transfer_request(request, request.applicant, colleague, role=workflow.APPLICANT)
    assert reload(db, request.id).applicant_id == colleague.id


def _unverified_member(request: AuthorizationRequest):
    user = UserFactory(current_organization=OrganizationFactory())
    user.memberships.append(Membership(organization=request.organization, verified=False))
    return user


@pytest.mark.parametrize(
    ("who", "message"),
    [
        ("unknown@ccas.example.fr", transfers.UNKNOWN_EMAIL),
        (None, transfers.UNKNOWN_EMAIL),
        ("applicant", transfers.SAME_APPLICANT),
        ("outsider", transfers.NOT_A_MEMBER),
        ("unverified", transfers.NOT_A_MEMBER),
    ],
)
@pytest.mark.parametrize("role", [workflow.APPLICANT, workflow.INSTRUCTOR])
def test_each_refused_new_applicant(db, request_and_colleague, instructor, who, message, role):
    request, _ = request_and_colleague
    applicant = request.applicant
    new_applicant = {
        "applicant": lambda: applicant.email,
        "outsider": lambda: UserFactory(),
        "unverified": lambda: _unverified_member(request),
    }.get(who, lambda: who)()
    db.session.commit()
    actor = applicant if role == workflow.APPLICANT else instructor
    with pytest.raises(UserError) as refused:
        transfers.transfer_request(request, actor, new_applicant, role=role)
    assert refused.value.message == message and refused.value.field == "email"
    request = reload(db, request.id)
    assert request.applicant_id == applicant.id and transfer_events(request) == []


@pytest.mark.parametrize(
    ("role", "message"),
    [
        (workflow.APPLICANT, NOT_ALLOWED_FOR_APPLICANT),
        (workflow.INSTRUCTOR, NOT_ALLOWED_FOR_INSTRUCTOR),
    ],
)
def test_a_plain_draft_cannot_be_transferred(db, role, message, instructor):
    from datapass.catalog import get_catalog
    from datapass.services import authorization_requests

    applicant = UserFactory()
    colleague = UserFactory(current_organization=applicant.current_organization)
    draft = authorization_requests.start_request_for_applicant(
        applicant, get_catalog().form("api-particulier-ccas-arche-mc2")
    )
    actor = applicant if role == workflow.APPLICANT else instructor
    with pytest.raises(UserError) as refused:
        transfers.transfer_request(draft, actor, colleague.email, role=role)
    assert refused.value.message == message
    draft = reload(db, draft.id)
    assert draft.applicant_id == applicant.id and transfer_events(draft) == []


@pytest.mark.parametrize("role", [workflow.MEMBER, workflow.REPORTER, workflow.STRANGER])
def test_other_roles_cannot_transfer(db, request_and_colleague, role):
    request, colleague = request_and_colleague
    with pytest.raises(UserError) as refused:
        transfers.transfer_request(request, colleague, colleague, role=role)
    assert refused.value.message == NOT_ALLOWED_FOR_APPLICANT
    assert reload(db, request.id).applicant_id != colleague.id


def test_the_workflow_refusal_comes_before_looking_the_email_up(db, instructor):
    from datapass.catalog import get_catalog
    from datapass.services import authorization_requests

    applicant = UserFactory()
    draft = authorization_requests.start_request_for_applicant(
        applicant, get_catalog().form("api-particulier-ccas-arche-mc2")
    )
    with pytest.raises(UserError) as refused:
        transfers.transfer_request(draft, applicant, "nobody@example.fr", role=workflow.APPLICANT)
    assert refused.value.message == NOT_ALLOWED_FOR_APPLICANT


def test_a_transfer_on_a_stale_page_is_refused(db, request_and_colleague, instructor):
    request, colleague = request_and_colleague
    with pytest.raises(decisions.DecisionError) as refused:
        transfers.transfer_request(
            request, instructor, colleague, role=workflow.INSTRUCTOR, version=request.version - 1
        )
    assert refused.value.stale
    assert reload(db, request.id).applicant_id != colleague.id


def test_find_user_by_email_ignores_case_and_spaces(db):
    user = UserFactory(email="camille.martin@ccas.example.fr")
    assert transfers.find_user_by_email(" Camille.Martin@CCAS.example.fr ") == user
    assert transfers.find_user_by_email("personne@ccas.example.fr") is None


# ---------------------------------------------------------------- messages


@pytest.mark.parametrize(
    ("side", "event_name"),
    [(APPLICANT_SIDE, "applicant_message"), (INSTRUCTOR_SIDE, "instructor_message")],
)
def test_each_side_posts_a_message_with_its_timeline_event(db, instructor, side, event_name):
    request = submitted_request()
    author = request.applicant if side == APPLICANT_SIDE else instructor
    message = messaging.post_message(request, author, "  Une question ?  ", side=side)
    request = reload(db, request.id)
    [stored] = request.messages
    assert stored.id == message.id and stored.sender_side == side
    assert stored.author_id == author.id and stored.body == "Une question ?"
    assert stored.read_at is None and stored.processed_at is None
    event = request.events[-1]
    assert event.name == event_name and event.message_id == message.id
    assert event.user_id == author.id


def test_an_unknown_side_is_a_programming_error(db):
    request = submitted_request()
    with pytest.raises(ValueError, match="Unknown message side"):
        messaging.post_message(request, request.applicant, "Bonjour", side="reporter")
    assert reload(db, request.id).messages == []


def test_reading_marks_the_other_sides_messages_only(db, instructor):
    request = submitted_request()
    messaging.post_message(request, request.applicant, "Question", side=APPLICANT_SIDE)
    messaging.post_message(request, instructor, "Réponse", side=INSTRUCTOR_SIDE)
    # The instructors read the applicant's messages…
    assert messaging.mark_read(request, APPLICANT_SIDE) == 1
    assert messaging.mark_read(request, APPLICANT_SIDE) == 0
    request = reload(db, request.id)
    question, answer = request.messages
    assert question.read_at is not None and answer.read_at is None
    # …and the applicant the instructors'.
    assert messaging.mark_read(request, INSTRUCTOR_SIDE) == 1
    assert reload(db, request.id).messages[1].read_at is not None


def test_marking_a_message_processed_also_marks_it_read(db):
    request = submitted_request()
    message = messaging.post_message(request, request.applicant, "Question", side=APPLICANT_SIDE)
    messaging.mark_processed(message)
    [stored] = reload(db, request.id).messages
    assert stored.processed_at is not None and stored.read_at == stored.processed_at
