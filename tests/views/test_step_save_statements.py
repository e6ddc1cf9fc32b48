"""What a wizard step's save costs (issue 16: the step save under load): a constant number
of statements, nothing loaded that the step does not change, nothing loaded again after
the commit to build the redirect."""

from __future__ import annotations

import pytest

from datapass.catalog import get_catalog
from tests.support.http import post_form
from tests.support.queries import recorded_lazy_loads, recorded_statements
from tests.support.wizard import VERSION_RE, fill_all, start, valid_answers

FORM_UID = "api-particulier"


@pytest.fixture
def draft(client, login_as):
    login_as()
    catalog_form = get_catalog().form(FORM_UID)
    request_id = start(client, catalog_form)
    fill_all(client, catalog_form, request_id)
    return catalog_form, request_id


def save(client, request_id: int, slug: str, data: dict, action: str):
    """The statements of the step's POST (its page loaded first, as a browser does)."""
    url = f"/demandes/{request_id}/etapes/{slug}"
    page = client.get(url)
    posted = {"action": action, "version": VERSION_RE.search(page.text).group(1), **data}
    with recorded_statements() as statements, recorded_lazy_loads() as lazy:
        response = post_form(client, url, posted, page=page)
    assert response.status_code == 302, response.text
    return [s for s in statements if not s.startswith("BEGIN")], lazy


def loads(statements, table: str) -> list[str]:
    return [s for s in statements if s.startswith("SELECT") and f"FROM {table}" in s]


@pytest.mark.parametrize("action", ["save", "next"])
def test_a_changed_step_is_saved_in_six_statements(client, draft, action):
    catalog_form, request_id = draft
    answers = {**valid_answers(catalog_form, "basic_infos"), "intitule": "Aides, version 2"}
    statements, _ = save(client, request_id, "projet", answers, action)
    # The session; the request; its update; its search document (read, written); whether
    # an ``update`` event was recorded within 10 minutes.
    assert len(statements) == 6, statements
    assert len([s for s in statements if "authorization_requests.public_id" in s]) == 1
    assert not loads(statements, "documents") and not loads(
        statements, "authorization_request_contacts"
    )


def test_an_unchanged_step_writes_nothing_and_loads_the_request_once(client, draft):
    catalog_form, request_id = draft
    statements, lazy = save(
        client,
        request_id,
        "donnees-personnelles",
        valid_answers(catalog_form, "personal_data"),
        "save",
    )
    assert len(statements) == 2, statements  # the session, the request
    assert "authorization_requests.public_id" in statements[1]
    assert lazy == []


def test_next_checks_the_earlier_steps_before_the_commit(client, draft):
    catalog_form, request_id = draft
    statements, _ = save(
        client, request_id, "contacts", valid_answers(catalog_form, "contacts"), "next"
    )
    # The earlier steps' checks read the documents (the legal step's), once; the request is
    # not loaded again after the commit.
    assert len(statements) == 3, statements
    assert len(loads(statements, "documents")) == 1


def test_a_changed_contact_email_updates_its_indexed_copy(client, draft):
    catalog_form, request_id = draft
    answers = valid_answers(catalog_form, "contacts")
    kind = catalog_form.contact_types[0]
    answers[f"{kind}_email"] = "nouvelle.adresse@ccas-chaville.fr"
    statements, _ = save(client, request_id, "contacts", answers, "save")
    assert loads(statements, "authorization_request_contacts")
    from datapass.extensions import db
    from datapass.models import AuthorizationRequest

    contacts = db.session.get(AuthorizationRequest, request_id).contacts
    assert {c.contact_type: c.email for c in contacts}[kind] == "nouvelle.adresse@ccas-chaville.fr"
