"""A blank form's fields rendered once per form class, the request's values spliced in
(datapass/views/form_fragments.py): the same markup as the DSFR macros give, every session
its own CSRF token, nothing kept of one request in another."""

from __future__ import annotations

import re

import pytest
from flask import render_template_string, session
from flask_wtf.csrf import generate_csrf

from datapass.forms.instruction import InstructorMessageForm, InstructorTransferForm
from datapass.views import form_fragments
from datapass.views.instruction import CSRF_FIELD, MESSAGE_FIELDS, TRANSFER_FIELDS
from tests.support.authorization_requests import submitted_request

INSTRUCTOR = "api_particulier:instructor"
TOKEN = re.compile(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"')


@pytest.fixture
def cache(app):
    """An empty cache of blank forms (the app is shared by the tests)."""
    app.extensions.pop("blank_forms", None)
    yield
    app.extensions.pop("blank_forms", None)


def _by_macros(template: str, form) -> str:
    return render_template_string('{% include "' + template + '" %}', form=form)


@pytest.mark.parametrize(
    ("template", "form_class", "values"),
    [
        (MESSAGE_FIELDS, InstructorMessageForm, {}),
        (TRANSFER_FIELDS, InstructorTransferForm, {"version": 7}),
        (CSRF_FIELD, None, {}),  # a form-less button's
    ],
)
def test_a_blank_form_is_the_markup_of_the_dsfr_macros(app, cache, template, form_class, values):
    for _ in range(2):  # rendered, then from the cache
        with app.test_request_context("/"):
            spliced = form_fragments.blank_form(template, form_class, **values)
            form = form_class and form_class(formdata=None, data=values)
            assert str(spliced) == _by_macros(template, form)
            assert generate_csrf() in spliced
    assert len(app.extensions["blank_forms"]) == 1


def test_the_spliced_values_are_escaped(app, cache):
    with app.test_request_context("/"):
        fields = form_fragments.blank_form(
            TRANSFER_FIELDS, InstructorTransferForm, version='1"><script>'
        )
    assert 'value="1&#34;&gt;&lt;script&gt;"' in fields
    assert "<script>" not in fields


def test_no_token_of_one_session_shows_in_another(app, cache):
    tokens = []
    for _ in range(2):
        with app.test_request_context("/"):
            fields = form_fragments.blank_form(MESSAGE_FIELDS, InstructorMessageForm)
            tokens.append(TOKEN.search(fields).group(1))
            assert session["csrf_token"]  # the session holds its raw token, as with the form
    assert tokens[0] != tokens[1]
    assert tokens[0] not in str(app.extensions["blank_forms"])


def test_the_request_page_posts_its_forms_with_the_session_token(client, db, login_as, cache):
    login_as(roles=[INSTRUCTOR])
    request = submitted_request()
    page = client.get(f"/instruction/demandes/{request.id}").text
    tokens = set(TOKEN.findall(page))
    assert len(tokens) == 1  # the layout's, the follow button's and the forms' fields
    assert len(TOKEN.findall(page)) == 4
    assert f'<input id="version" name="version" type="hidden" value="{request.version}">' in page
    response = client.post(
        f"/instruction/demandes/{request.id}/messages",
        data={"csrf_token": tokens.pop(), "body": "Pouvez-vous préciser ?"},
    )
    assert response.status_code == 302
    assert "Pouvez-vous préciser ?" in client.get(f"/instruction/demandes/{request.id}").text
