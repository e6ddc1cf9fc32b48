"""Submitted requests built through the real services (for instruction tests)."""

from __future__ import annotations

from datapass.catalog import get_catalog
from datapass.extensions import db
from datapass.forms import wizard
from datapass.services import requests as requests_service
from tests.factories import UserFactory
from tests.support.wizard import valid_answers


def submitted_request(applicant=None, *, form_uid="api-particulier-ccas-arche-mc2", **answers):
    """A request filled with valid answers and submitted by ``applicant`` (or a new agent)."""
    applicant = applicant or UserFactory()
    form = get_catalog().form(form_uid)
    request = requests_service.start_request(applicant, form)
    for block in form.steps:
        requests_service.save_answers(request, form, block, valid_answers(form, block))
    for key, value in answers.items():
        block = wizard.field_block(form, key)
        requests_service.save_answers(request, form, block, {key: value})
    requests_service.sync_contacts(request, form)
    db.session.commit()
    result = requests_service.submit_request(
        request, form, applicant, terms_accepted=True, dpo_informed=True
    )
    assert result.ok, result.errors
    return request
