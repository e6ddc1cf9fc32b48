"""Every input bounded, in French: lengths, dates, line breaks, tags, never silently cut."""

from __future__ import annotations

import pytest

from datapass import blocks
from datapass.catalog import get_catalog
from datapass.mail import build_message
from datapass.models import AuthorizationRequest
from datapass.validators import SINGLE_LINE, Length
from tests.support.http import reload
from tests.support.wizard import post_step, start

NBSP = "\u00a0"
NNBSP = "\u202f"
FORM = "api-particulier-aides-sociales-ccas-dont-facultatives"
PROJECT = {
    "intitule": "Aides facultatives",
    "description": "Instruire les aides.",
    "date_prevue_mise_en_production": "",
    "volumetrie_approximative": "",
}


@pytest.fixture
def request_id(client, login_as):
    login_as()
    return start(client, get_catalog().form(FORM))


def errors_of(page) -> str:
    return page.text.replace("&nbsp;", NBSP)


def test_a_long_title_is_refused_in_french_and_kept(client, db, request_id):
    title = "T" * 256
    response = post_step(client, request_id, "projet", {**PROJECT, "intitule": title})
    assert response.status_code == 422
    assert "255 caractères au maximum." in response.text
    assert "Field cannot be longer" not in response.text
    assert reload(AuthorizationRequest, request_id).data["intitule"] == title


def test_a_long_description_is_never_cut(client, db, request_id):
    description = "é" * 10_001
    response = post_step(client, request_id, "projet", {**PROJECT, "description": description})
    assert response.status_code == 422
    assert f"10{NNBSP}000 caractères au maximum." in response.text
    assert reload(AuthorizationRequest, request_id).data["description"] == description
    # A draft saved without « Suivant » keeps it whole too.
    post_step(client, request_id, "projet", {**PROJECT, "description": description}, "save")
    assert len(reload(AuthorizationRequest, request_id).data["description"]) == 10_001


def test_the_api_cleaning_refuses_a_long_text_instead_of_cutting_it(db):
    catalog_form = get_catalog().form(FORM)
    cleaned, problems = blocks.clean_answers(
        catalog_form, {"description": "x" * 10_001, "intitule": "Aides"}
    )
    assert cleaned == {"intitule": "Aides"}
    [problem] = problems
    assert problem.field == "description"
    assert problem.detail == f"10{NNBSP}000 caractères au maximum."


@pytest.mark.parametrize("date", ["2027-02-31", "2027-13-01", "2027-00-10", "31/12/2027"])
def test_impossible_dates_are_refused(client, db, request_id, date):
    response = post_step(
        client, request_id, "projet", {**PROJECT, "date_prevue_mise_en_production": date}
    )
    assert response.status_code == 422
    assert "Saisissez une date valide, par exemple 31/12/2026." in response.text


def test_a_real_date_is_accepted(client, db, request_id):
    data = {**PROJECT, "date_prevue_mise_en_production": "2028-02-29"}
    assert post_step(client, request_id, "projet", data).status_code == 302


@pytest.mark.parametrize("title", ["Aides\r\nBcc: x@y.fr", "Aides\nsociales", "Aides\u2028x"])
def test_line_breaks_are_refused_in_a_single_line_field(client, db, request_id, title):
    response = post_step(client, request_id, "projet", {**PROJECT, "intitule": title})
    assert response.status_code == 422
    assert SINGLE_LINE in errors_of(response)


def test_an_email_never_dies_on_a_line_break_in_its_subject(app):
    with app.app_context():
        message = build_message(
            to=["a@b.fr"],
            subject="Demande D1 : Aides\r\nBcc: victime@exemple.fr",
            text="Bonjour",
            html=None,
            key="k1",
        )
    assert message["Subject"] == "Demande D1 : Aides Bcc: victime@exemple.fr"
    assert message["Bcc"] is None
    assert b"\r\nBcc:" not in message.as_bytes()


@pytest.mark.parametrize(
    "typed",
    [
        "&lt;img src=x onerror=alert(1)&gt;",
        "&amp;lt;img src=x onerror=alert(1)&amp;gt;",
        "<b>&lt;script&gt;alert(1)&lt;/script&gt;</b>",
    ],
)
def test_the_cleaning_never_makes_a_tag(typed):
    assert "<" not in blocks.sanitize(typed)


def test_plain_text_with_signs_is_kept():
    assert blocks.sanitize("R&D : a < b") == "R&D : a < b"
    assert blocks.sanitize("Tom &amp; Jerry") == "Tom & Jerry"
    assert blocks.sanitize("  Aides  ") == "Aides"


def test_the_french_length_messages():
    assert Length(max=255).message == "255 caractères au maximum."
    assert Length(max=10_000).message == f"10{NNBSP}000 caractères au maximum."
    assert Length(min=3).message == "3 caractères au minimum."
    assert Length(min=3, max=5).message == "Entre 3 et 5 caractères."
