"""Submitted requests built through the real services (for instruction tests)."""

from __future__ import annotations

from datapass.catalog import get_catalog
from datapass.services import authorization_requests, submission
from tests.factories import UserFactory
from tests.support.wizard import valid_answers


def submitted_request(applicant=None, *, form_uid="api-particulier-ccas-arche-mc2", **answers):
    """A request filled with valid answers and submitted by ``applicant`` (or a new agent)."""
    applicant = applicant or UserFactory()
    form = get_catalog().form(form_uid)
    request = authorization_requests.start_request_for_applicant(applicant, form)
    typed = {}
    for block in form.editable_steps:
        typed.update(valid_answers(form, block))
    typed.update(answers)
    problems = authorization_requests.fill_request(request, form, typed)
    assert not problems, problems
    result = submission.submit_request(
        request, form, applicant, terms_accepted=True, dpo_informed=True
    )
    assert result.ok, result.errors
    return request


def approved_request(app, applicant=None):
    """A request of ``applicant`` (default: a fresh CCAS agent), submitted then approved by
    an instructor (emails are composed in a request context); returns it."""
    from datapass.services import decisions

    applicant = applicant or UserFactory()
    with app.test_request_context():
        request = submitted_request(applicant)
        instructor = UserFactory(roles=["api_particulier:instructor"])
        decisions.decide(request, "approve", instructor, version=request.version)
    return request
