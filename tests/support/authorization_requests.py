"""Submitted requests built through the real services (for instruction tests)."""

from __future__ import annotations

from datapass.catalog import get_catalog
from datapass.extensions import db
from datapass.forms import wizard
from datapass.services import authorization_requests
from tests.factories import UserFactory
from tests.support.wizard import valid_answers


def submitted_request(applicant=None, *, form_uid="api-particulier-ccas-arche-mc2", **answers):
    """A request filled with valid answers and submitted by ``applicant`` (or a new agent)."""
    applicant = applicant or UserFactory()
    form = get_catalog().form(form_uid)
    request = authorization_requests.start_request(applicant, form)
    for block in form.steps:
        authorization_requests.save_answers(request, form, block, valid_answers(form, block))
    for key, value in answers.items():
        block = wizard.field_block(form, key)
        authorization_requests.save_answers(request, form, block, {key: value})
    authorization_requests.sync_contacts(request, form)
    db.session.commit()
    result = authorization_requests.submit_request(
        request, form, applicant, terms_accepted=True, dpo_informed=True
    )
    assert result.ok, result.errors
    return request
