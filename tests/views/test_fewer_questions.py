"""Fewer, better questions: what an editor's démarche pre-fills, the DPO's implied
« Fonction », « C’est moi » wherever the applicant may be that person."""

from __future__ import annotations

import pytest

from datapass.blocks import contacts
from datapass.catalog import DEFAULT_DIR, load_catalog
from datapass.models import AuthorizationRequest
from tests.support.http import reload
from tests.support.wizard import post_step, start

CATALOG = load_catalog(DEFAULT_DIR)
EDITOR_FORMS = [form for form in CATALOG.forms.values() if form.editor]
DPO_TITLE = "delegue_protection_donnees_job_title"


@pytest.fixture
def agent(login_as):
    return login_as(given_name="Léa", family_name="Martin", phone_number="0601020304")


@pytest.mark.parametrize("form", EDITOR_FORMS, ids=lambda form: form.uid)
def test_an_editors_demarche_prefills_recipients_retention_and_legal_framework(form):
    data = form.initial_answers()
    assert data["destinataire_donnees_caractere_personnel"] == "Agents instructeurs du CCAS"
    assert data["duree_conservation_donnees_caractere_personnel"] == "24"
    assert data["cadre_juridique_nature"] == form.legal_framework.text
    assert data["cadre_juridique_url"].startswith("https://www.legifrance.gouv.fr/")
    # Pre-filled, not locked.
    assert not form.is_locked("personal_data") and not form.is_locked("legal")
    assert {"personal_data", "legal"} <= form.prefilled_blocks()


def test_the_prefilled_treatment_is_shown_as_such_and_editable(client, agent):
    form = CATALOG.form("api-particulier-ccas-arche-mc2")
    request_id = start(client, form)
    page = client.get(f"/demandes/{request_id}/etapes/donnees-personnelles")
    assert "Nous avons pré-rempli des informations pour vous aider" in page.text
    assert 'value="24"' in page.text and "Agents instructeurs du CCAS" in page.text
    posted = {
        "destinataire_donnees_caractere_personnel": "Travailleurs sociaux du CCAS",
        "duree_conservation_donnees_caractere_personnel": "12",
    }
    assert post_step(client, request_id, "donnees-personnelles", posted).status_code == 302
    data = reload(AuthorizationRequest, request_id).data
    assert data["destinataire_donnees_caractere_personnel"] == "Travailleurs sociaux du CCAS"
    assert data["duree_conservation_donnees_caractere_personnel"] == "12"


def test_the_dpo_function_is_implied_and_cannot_be_changed(client, agent):
    form = CATALOG.form("api-particulier")
    assert form.implied_answers() == {DPO_TITLE: "Délégué à la protection des données"}
    assert form.field_is_locked(DPO_TITLE)
    assert not form.field_is_locked("responsable_traitement_job_title")
    request_id = start(client, form)
    assert reload(AuthorizationRequest, request_id).data[DPO_TITLE] == (
        "Délégué à la protection des données"
    )
    post_step(client, request_id, "contacts", {DPO_TITLE: "Stagiaire"}, action="save")
    data = reload(AuthorizationRequest, request_id).data
    assert data[DPO_TITLE] == "Délégué à la protection des données"
    # A stored draft from before keeps nothing else: the server sets it on every save.
    assert (
        form.enforce_locks({DPO_TITLE: "Autre"})[DPO_TITLE] == contacts.CONTACT_TYPES[contacts.DPO]
    )


def test_its_me_for_the_controller_but_never_for_the_dpo(client, agent):
    assert {
        "responsable_traitement",
        "contact_technique",
        "contact_metier",
    } == contacts.SELF_FILLABLE_CONTACTS
    form = CATALOG.form("api-particulier-ccas-arche-mc2")
    request_id = start(client, form)
    page = client.get(f"/demandes/{request_id}/etapes/contacts").text
    assert 'value="itsme:responsable_traitement"' in page
    assert 'value="itsme:contact_metier"' in page
    assert 'value="itsme:delegue_protection_donnees"' not in page
    assert 'value="itsme:contact_technique"' not in page  # fixed by the editor
