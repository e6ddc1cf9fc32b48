"""The délibération where the data need it: required in every CCAS démarche (and Pass
Famille) as soon as a DGFIP scope is checked; CAF-only editor sets keep their legal URL."""

from __future__ import annotations

import io
import shutil

import pytest

from datapass import workflow
from datapass.catalog import DEFAULT_DIR, CatalogError, load_catalog
from datapass.models import AuthorizationRequest
from tests.support.http import reload
from tests.support.wizard import fill_all, post_step, start, submit

CATALOG = load_catalog(DEFAULT_DIR)
GENERIC = CATALOG.form("api-particulier-aides-sociales-ccas")
MILLESIME = CATALOG.form("api-particulier-ccas-arche-mc2")
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
DGFIP_ERROR = "Vous demandez des données de la DGFIP\u00a0: joignez la délibération en PDF"
CCAS_AND_PASS_FAMILLE = [
    form
    for form in CATALOG.forms.values()
    if form.use_case in ("ccas", "tarification_municipale_enfance")
]


@pytest.fixture
def agent(login_as):
    return login_as()


@pytest.mark.parametrize("form", CCAS_AND_PASS_FAMILLE, ids=lambda form: form.uid)
def test_every_ccas_demarche_requires_it_for_dgfip_data_on_an_editable_legal_step(form):
    assert form.deliberation_required_for == ("dgfip",)
    assert not form.is_locked("legal") and "legal" in form.editable_steps
    assert form.deliberation_scopes(["cnaf_quotient_familial", "dgfip_montant_impot"]) == [
        "dgfip_montant_impot"
    ]
    assert form.deliberation_scopes(["cnaf_quotient_familial"]) == []


def test_a_static_legal_block_cannot_hide_a_required_deliberation(tmp_path):
    directory = tmp_path / "catalog"
    shutil.copytree(DEFAULT_DIR, directory)
    forms = directory / "forms" / "api_particulier.yml"
    text = forms.read_text()
    old = (
        "steps: [basic_infos, legal, modalities, scopes, personal_data, contacts]\n"
        "    legal_framework: CCAS\n"
        "    justificatif_label: Délibération du conseil d’administration du CCAS\n"
        "    deliberation_required_for: [dgfip]\n"
    )
    new = (
        "steps: [basic_infos, modalities, scopes, personal_data, contacts]\n"
        "    static_blocks: [legal]\n"
        "    legal_framework: CCAS\n"
        "    deliberation_required_for: [dgfip, nope]\n"
    )
    assert old in text
    forms.write_text(text.replace(old, new, 1))
    with pytest.raises(CatalogError) as error:
        load_catalog(directory)
    found = [str(issue) for issue in error.value.issues]
    where = (
        "forms/api_particulier.yml: api-particulier-aides-sociales-ccas.deliberation_required_for"
    )
    assert f"{where}: a static legal block would hide the required délibération" in found, found
    assert f"{where}[1]: no scope of api_particulier starts with 'nope'" in found, found


def _generic_with_dgfip(client):
    request_id = start(client, GENERIC)
    fill_all(client, GENERIC, request_id)
    scopes = {"scopes": ["cnaf_quotient_familial", "dgfip_revenu_fiscal_reference"]}
    return request_id, post_step(client, request_id, "donnees", scopes)


def test_a_generic_ccas_request_with_dgfip_data_cannot_be_submitted_without_it(client, agent):
    request_id, scopes = _generic_with_dgfip(client)
    # « Suivant » on the data step sends the applicant back to the legal step, which says why.
    assert scopes.status_code == 302 and "/etapes/cadre-juridique" in scopes.headers["Location"]
    legal = client.get(f"/demandes/{request_id}/etapes/cadre-juridique")
    assert "Une délibération est obligatoire pour votre demande" in legal.text
    assert "Revenu fiscal de référence" in legal.text
    before = dict(reload(AuthorizationRequest, request_id).data)

    response = submit(client, request_id, GENERIC)
    assert response.status_code == 422
    assert DGFIP_ERROR in response.text
    request = reload(AuthorizationRequest, request_id)
    assert request.state == workflow.DRAFT
    assert request.data == before  # nothing typed is lost

    # The pre-filled Légifrance article is still there and still is not the act.
    posted = post_step(
        client,
        request_id,
        "cadre-juridique",
        {
            "cadre_juridique_nature": before["cadre_juridique_nature"],
            "cadre_juridique_url": before["cadre_juridique_url"],
        },
    )
    assert posted.status_code == 422
    assert DGFIP_ERROR in posted.text
    # Next to the upload field.
    assert 'id="cadre_juridique_document-message-error">' + DGFIP_ERROR in posted.text
    assert "fr-upload-group--error" in posted.text


@pytest.mark.parametrize("how", ["pdf", "url"])
def test_a_pdf_or_the_url_of_the_published_act_lets_it_through(client, agent, how):
    request_id, _ = _generic_with_dgfip(client)
    data = {
        "cadre_juridique_nature": "Délibération du conseil d’administration du 12 octobre 2023",
        "cadre_juridique_url": "https://www.ville-chaville.fr/deliberations/2023-0017.pdf"
        if how == "url"
        else "",
    }
    if how == "pdf":
        data["cadre_juridique_document"] = [(io.BytesIO(PDF), "délibération.pdf")]
    response = post_step(
        client, request_id, "cadre-juridique", data, content_type="multipart/form-data"
    )
    assert response.status_code == 302, response.text
    assert submit(client, request_id, GENERIC).status_code == 302
    assert reload(AuthorizationRequest, request_id).state == workflow.SUBMITTED


def test_caf_only_data_keep_the_prefilled_legal_text(client, agent):
    request_id = start(client, GENERIC)
    legal = client.get(f"/demandes/{request_id}/etapes/cadre-juridique")
    assert "Quand une délibération est-elle obligatoire" in legal.text
    assert "le cadre juridique pré-rempli suffit" in legal.text
    fill_all(client, GENERIC, request_id)
    assert submit(client, request_id, GENERIC).status_code == 302


def test_a_caf_only_editor_set_keeps_its_legal_url_and_may_attach_one(client, agent):
    request_id = start(client, MILLESIME)
    legal = client.get(f"/demandes/{request_id}/etapes/cadre-juridique")
    assert "Pas de délibération obligatoire pour ces données" in legal.text
    assert "Votre logiciel Millésime Action Sociale ne demande que des données de la CAF" in (
        legal.text
    )
    assert 'name="cadre_juridique_document"' in legal.text
    data = reload(AuthorizationRequest, request_id).data
    assert data["cadre_juridique_url"] == MILLESIME.initialize_with["cadre_juridique_url"]
