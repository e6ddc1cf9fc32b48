"""« Télécharger un modèle de délibération »: an editable .docx generated from the request,
parsed back (python-docx) as LibreOffice would open it."""

from __future__ import annotations

import io

import pytest
from docx import Document

from datapass.catalog import DEFAULT_DIR, load_catalog
from datapass.models import AuthorizationRequest
from tests.support.http import reload
from tests.support.wizard import post_step, start

CATALOG = load_catalog(DEFAULT_DIR)
MILLESIME = CATALOG.form("api-particulier-ccas-arche-mc2")
GENERIC = CATALOG.form("api-particulier-aides-sociales-ccas")
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@pytest.fixture
def agent(login_as):
    return login_as()


def text_of(response) -> str:
    document = Document(io.BytesIO(response.data))
    return "\n".join(paragraph.text for paragraph in document.paragraphs)


def test_the_legal_step_links_the_model_and_it_holds_the_request(client, agent):
    request_id = start(client, MILLESIME)
    legal = client.get(f"/demandes/{request_id}/etapes/cadre-juridique").text
    url = f"/demandes/{request_id}/modele-deliberation.docx"
    assert f'href="{url}"' in legal and "Télécharger un modèle de délibération" in legal
    response = client.get(url)
    assert response.status_code == 200
    assert response.mimetype == DOCX
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="modele-deliberation-D{request_id}.docx"'
    )
    text = text_of(response)
    request = reload(AuthorizationRequest, request_id)
    assert request.organization.name.upper() in text
    for value in request.data["scopes"]:
        assert MILLESIME.definition.scope(value).label in text
    assert "conservées 24 mois au plus" in text
    assert "Agents instructeurs du CCAS" in text
    assert "Millésime Action Sociale, édité par Arche MC2" in text
    # The structure of a board's délibération, and its blanks.
    for part in (
        "Séance du",
        "Vu le code des relations",
        "L114-8 et R114-9-3",
        "Considérant",
        "après en avoir délibéré",
        "DÉCIDE",
        "Article 1",
        "Publication par affichage",
    ):
        assert part in text, part
    assert "L123-5, R123-2 et R123-21" in text  # the CASF articles of the CCAS framework


def test_the_model_follows_what_was_typed(client, agent):
    request_id = start(client, GENERIC)
    post_step(
        client,
        request_id,
        "donnees",
        {"scopes": ["cnaf_quotient_familial", "dgfip_revenu_fiscal_reference"]},
        action="save",
    )
    post_step(
        client,
        request_id,
        "donnees-personnelles",
        {
            "destinataire_donnees_caractere_personnel": "Travailleurs sociaux",
            "duree_conservation_donnees_caractere_personnel": "18",
        },
        action="save",
    )
    text = text_of(client.get(f"/demandes/{request_id}/modele-deliberation.docx"))
    assert "Revenu fiscal de référence" in text and "Quotient familial CAF & MSA" in text
    assert "conservées 18 mois au plus" in text and "Travailleurs sociaux" in text
    assert "édité par" not in text  # no editor


def test_only_who_may_edit_the_request_gets_it(client, login_as):
    owner = login_as()
    request_id = start(client, MILLESIME)
    assert owner is not None
    login_as()  # another agent of another organisation
    assert client.get(f"/demandes/{request_id}/modele-deliberation.docx").status_code == 404
