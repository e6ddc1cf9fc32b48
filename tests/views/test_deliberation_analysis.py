"""The délibération checked against the data: text extracted by the worker (outbox), each
checked data item approved, mentioned only in the exposé or absent, with its page."""

from __future__ import annotations

import io
import re

import pytest

from datapass import outbox
from datapass.catalog import DEFAULT_DIR, load_catalog
from datapass.models import AuthorizationRequest, OutboxJob
from datapass.models.document import TEXT_EXTRACTED, TEXT_NONE, TEXT_PENDING
from datapass.services import deliberation_analysis as analysis
from tests.support.deliberations import chaville_pdf, scanned_pdf, text_pdf
from tests.support.http import reload
from tests.support.wizard import fill_all, post_step, start, submit

CATALOG = load_catalog(DEFAULT_DIR)
MILLESIME = CATALOG.form("api-particulier-ccas-arche-mc2")
DEFINITION = MILLESIME.definition
NBSP = "\u00a0"
APPROVED = "approuvée"
EXPOSE_ONLY = "mentionnée seulement dans l’exposé"
WARNING = "Données non approuvées par la délibération&nbsp;: "
CAF = ["cnaf_quotient_familial", "cnaf_allocataires", "cnaf_enfants", "cnaf_adresse"]


def upload(client, request_id, content, name="deliberation.pdf"):
    data = {
        "cadre_juridique_nature": "Délibération du conseil d’administration du 12 octobre 2023",
        "cadre_juridique_url": "",
        "cadre_juridique_document": [(io.BytesIO(content), name)],
    }
    response = post_step(
        client, request_id, "cadre-juridique", data, content_type="multipart/form-data"
    )
    assert response.status_code == 302, response.text
    return response


def verdict_rows(page: str) -> dict[str, tuple[str, str]]:
    """``{scope: (result, page)}`` from the instructor's table."""
    rows = re.findall(
        r'<tr data-scope="(\w+)">\s*<td>[^<]*</td>\s*<td><p class="fr-badge[^"]*">([^<]+)</p></td>'
        r"\s*<td>([^<]+)</td>",
        page,
    )
    return {scope: (result, number) for scope, result, number in rows}


@pytest.fixture
def millesime_request(client, login_as):
    login_as()
    request_id = start(client, MILLESIME)
    fill_all(client, MILLESIME, request_id)
    return request_id


def test_chaville_approves_the_quotient_familial_only(client, db, login_as, millesime_request):
    request_id = millesime_request
    upload(client, request_id, chaville_pdf(), "DEL03_2023_0017.pdf")
    document = reload(AuthorizationRequest, request_id).documents[0]
    assert document.text_state == TEXT_PENDING
    assert db.session.query(OutboxJob).filter_by(kind=analysis.JOB_KIND).count() == 1

    assert outbox.drain() >= 1  # the worker extracts the text
    document = reload(AuthorizationRequest, request_id).documents[0]
    assert document.text_state == TEXT_EXTRACTED
    assert [s["page"] for s in document.text_sections if s["operative"]] == [3]

    # The applicant is warned on the summary, and may still submit.
    summary = client.get(f"/demandes/{request_id}/etapes/synthese").text
    assert (
        WARNING + "Identités allocataire et conjoint, Identités enfants, Adresse du foyer."
        in summary
    )
    assert submit(client, request_id, MILLESIME).status_code == 302

    login_as(roles=["api_particulier:instructor"])
    page = client.get(f"/instruction/demandes/{request_id}").text
    assert verdict_rows(page) == {
        "cnaf_quotient_familial": (APPROVED, "3"),
        "cnaf_allocataires": (EXPOSE_ONLY, "2"),
        "cnaf_enfants": (EXPOSE_ONLY, "2"),
        "cnaf_adresse": (EXPOSE_ONLY, "2"),
    }
    assert page.count(EXPOSE_ONLY) == 3


def test_the_instructor_sees_the_pending_analysis_then_a_scanned_pdf(
    client, login_as, millesime_request
):
    upload(client, millesime_request, scanned_pdf(), "scan.pdf")
    url = f"/instruction/demandes/{millesime_request}"
    login_as(roles=["api_particulier:instructor"])
    assert "Analyse de la délibération en cours" in client.get(url).text

    outbox.drain()
    assert reload(AuthorizationRequest, millesime_request).documents[0].text_state == TEXT_NONE
    page = client.get(url).text
    assert "texte non extractible (document scanné\u202f?)" in page
    assert verdict_rows(page) == {}


def test_a_deliberation_that_approves_every_item_raises_no_warning(
    client, login_as, millesime_request
):
    decision = (
        "Le conseil d’administration, après en avoir délibéré, DÉCIDE :\n"
        "Article 1 : le CCAS récupère le QF, l’état civil des allocataires, les enfants "
        "et l’adresse du foyer."
    )
    upload(client, millesime_request, text_pdf(["Vu le code de l’action sociale.", decision]))
    outbox.drain()
    summary = client.get(f"/demandes/{millesime_request}/etapes/synthese").text
    assert "Données non approuvées" not in summary
    login_as(roles=["api_particulier:instructor"])
    rows = verdict_rows(client.get(f"/instruction/demandes/{millesime_request}").text)
    assert rows == dict.fromkeys(CAF, (APPROVED, "2"))


# ---------------------------------------------------------------- the text itself


def _verdicts(pages: list[str], *scopes: str) -> dict[str, tuple[str, int | None]]:
    sections = analysis.split_sections(pages)
    return {
        value: (found.result, found.page)
        for value in scopes
        if (found := analysis.verdict(DEFINITION.scope(value), sections))
    }


def test_accents_case_and_word_boundaries():
    pages = ["APRÈS EN AVOIR DÉLIBÉRÉ, le conseil approuve le Quotient Familial et le RFR."]
    assert _verdicts(pages, "cnaf_quotient_familial", "dgfip_revenu_fiscal_reference") == {
        "cnaf_quotient_familial": (analysis.APPROVED, 1),
        "dgfip_revenu_fiscal_reference": (analysis.APPROVED, 1),
    }
    # « QF » is a word: not in « QFX », nor « adresse » in « adresser ».
    pages = ["DÉCIDE d’adresser le fichier QFX."]
    assert _verdicts(pages, "cnaf_quotient_familial", "cnaf_adresse") == {
        "cnaf_quotient_familial": (analysis.ABSENT, None),
        "cnaf_adresse": (analysis.ABSENT, None),
    }


def test_considerations_after_the_decision_stay_in_the_expose():
    pages = [
        "Objet : aides facultatives",
        "Le conseil, après en avoir délibéré,\n"
        "Considérant que les enfants du foyer comptent,\n"
        "APPROUVE la consultation de l’avis d’imposition.",
    ]
    found = _verdicts(pages, "cnaf_enfants", "dgfip_revenu_fiscal_reference", "cnaf_adresse")
    assert found == {
        "cnaf_enfants": (analysis.EXPOSE_ONLY, 2),
        "dgfip_revenu_fiscal_reference": (analysis.APPROVED, 2),
        "cnaf_adresse": (analysis.ABSENT, None),
    }


def test_approuve_in_lower_case_is_no_decision():
    sections = analysis.split_sections(["Le règlement approuvé en 2022 fixe le quotient familial."])
    assert [section["operative"] for section in sections] == [False]


def test_every_scope_of_the_catalogue_has_the_words_that_name_it():
    missing = [
        scope.value
        for group in DEFINITION.scope_groups
        for scope in group.scopes
        if not scope.keywords
    ]
    assert missing == []
