"""The applicant's wizard: every shipped form end to end, progressive validation, locks."""

from __future__ import annotations

import pytest

from datapass import blocks, workflow
from datapass.catalog import DEFAULT_DIR, load_catalog
from datapass.models import AuthorizationRequest
from tests.support.http import post_form, reload
from tests.support.wizard import fill_all, post_step, start, submit, valid_answers

CATALOG = load_catalog(DEFAULT_DIR)
FORMS = list(CATALOG.forms.values())


@pytest.fixture
def agent(login_as):
    return login_as()


@pytest.mark.parametrize("form", FORMS, ids=lambda form: form.uid)
def test_every_shipped_form_can_be_filled_and_submitted(client, db, agent, form):
    request_id = start(client, form)
    fill_all(client, form, request_id)
    summary = client.get(f"/demandes/{request_id}/etapes/synthese")
    assert "Soumettre la demande d’habilitation" in summary.text
    assert "J’ai lu et j’accepte les conditions générales d’utilisation" in summary.text
    response = submit(client, request_id, form)
    assert response.status_code == 302, response.text
    assert response.headers["Location"].endswith(f"/demandes/{request_id}")

    request = reload(AuthorizationRequest, request_id)
    assert request.state == workflow.SUBMITTED
    assert request.last_submitted_at is not None
    assert request.intitule == "Aides sociales facultatives"
    submitted = [event for event in request.events if event.name == "submit"]
    assert len(submitted) == 1 and submitted[0].payload["first_submission"] is True
    # Locked scopes stay whatever was posted.
    assert set(form.scopes_config.disabled) <= set(request.data["scopes"])
    page = client.get(f"/demandes/{request_id}")
    assert "En cours d’instruction" in page.text


def test_steps_have_one_title_each_and_a_stepper(client, agent):
    form = CATALOG.form("api-particulier-ccas-arche-mc2")
    request_id = start(client, form)
    steps = blocks.steps(form)
    assert [step.slug for step in steps] == [
        "organisation",
        "projet",
        "cadre-juridique",
        "donnees-personnelles",
        "contacts",
        "synthese",
    ]
    titles = set()
    for step in steps:
        page = client.get(f"/demandes/{request_id}/etapes/{step.slug}")
        assert page.text.count("<title>") == 1
        title = page.text.split("<title>")[1].split("</title>")[0]
        titles.add(title)
        assert f"Étape {step.number} sur {len(steps)}" in page.text
    assert len(titles) == len(steps)


def test_next_validates_and_keeps_every_value(client, db, agent):
    form = CATALOG.form("api-particulier")
    request_id = start(client, form)
    data = {
        "intitule": "Mon projet <b>gras</b>",
        "description": "",
        "volumetrie_approximative": "x",
    }
    response = post_step(client, request_id, "projet", data)
    assert response.status_code == 422
    assert "<title>Erreur" in response.text
    assert 'href="#description"' in response.text  # error summary links to the field
    assert 'aria-describedby="description-messages"' in response.text
    assert "Décrivez le projet." in response.text
    assert 'value="Mon projet gras"' in response.text  # kept (tags stripped)
    assert 'value="x"' in response.text
    assert reload(AuthorizationRequest, request_id).data["intitule"] == "Mon projet gras"


def test_save_does_not_validate_and_previous_keeps_input(client, db, agent):
    form = CATALOG.form("api-particulier")
    request_id = start(client, form)
    saved = post_step(client, request_id, "projet", {"intitule": "Brouillon"}, action="save")
    assert saved.status_code == 302
    assert saved.headers["Location"].endswith("/etapes/projet")
    back = post_step(
        client,
        request_id,
        "cadre-juridique",
        {"cadre_juridique_nature": "L114-8"},
        action="previous",
    )
    assert back.headers["Location"].endswith("/etapes/projet")
    data = reload(AuthorizationRequest, request_id).data
    assert data["intitule"] == "Brouillon" and data["cadre_juridique_nature"] == "L114-8"


def test_next_sends_back_to_an_incomplete_earlier_step(client, agent):
    form = CATALOG.form("api-particulier")
    request_id = start(client, form)
    response = post_step(client, request_id, "cadre-juridique", valid_answers(form, "legal"))
    assert response.status_code == 302
    assert "/etapes/projet" in response.headers["Location"]


def test_legal_step_needs_a_document_or_an_url(client, agent):
    form = CATALOG.form("api-particulier-aides-sociales-ccas-dont-facultatives")
    request_id = start(client, form)
    answers = {"cadre_juridique_nature": "Délibération", "cadre_juridique_url": ""}
    response = post_step(client, request_id, "cadre-juridique", answers)
    assert response.status_code == 422
    assert "Joignez délibération du conseil d’administration du CCAS" in response.text
    bad_url = post_step(
        client,
        request_id,
        "cadre-juridique",
        {**answers, "cadre_juridique_url": "javascript:alert(1)"},
    )
    assert bad_url.status_code == 422


@pytest.mark.parametrize(
    ("months", "justification", "ok"),
    [
        ("36", "", True),
        ("37", "", False),
        ("37", "Contrôles de la CAF", True),
        ("douze", "", False),
    ],
)
def test_retention_above_36_months_needs_a_justification(client, agent, months, justification, ok):
    form = CATALOG.form("api-particulier")
    request_id = start(client, form)
    answers = {
        "destinataire_donnees_caractere_personnel": "Agents",
        "duree_conservation_donnees_caractere_personnel": months,
        "duree_conservation_donnees_caractere_personnel_justification": justification,
    }
    response = post_step(client, request_id, "donnees-personnelles", answers, action="save")
    assert response.status_code == 302
    from datapass.models import AuthorizationRequest as Model  # noqa: F401

    validated = post_step(client, request_id, "donnees-personnelles", answers)
    if ok:
        assert validated.status_code == 302
    else:
        assert validated.status_code == 422


def test_scopes_are_grouped_with_locked_ones_disabled(client, agent):
    form = CATALOG.form("api-particulier-pass-famille")
    request_id = start(client, form)
    page = client.get(f"/demandes/{request_id}/etapes/donnees")
    assert "<legend" in page.text and "API Quotient familial CAF &amp; MSA" in page.text
    assert (
        'id="scope-cnaf_quotient_familial" name="scopes" value="cnaf_quotient_familial" checked'
        in page.text
    )
    assert "openid" not in page.text  # hidden
    assert "dgfip_avis_imposition" not in page.text  # retired
    assert "dgfip_montant_impot" in page.text


def test_at_least_one_scope(client, agent):
    form = CATALOG.form("api-particulier")
    request_id = start(client, form)
    response = post_step(client, request_id, "donnees", {})
    assert response.status_code == 422
    assert "Cochez au moins une donnée." in response.text


def test_crafted_post_cannot_change_locked_blocks(client, db, agent):
    form = CATALOG.form("api-particulier-ccas-arpege")
    request_id = start(client, form)
    # The scopes and modalities blocks are static: no step, and a forged post is ignored.
    assert client.get(f"/demandes/{request_id}/etapes/donnees").status_code == 404
    forged = {
        **valid_answers(form, "basic_infos"),
        "scopes": ["dgfip_montant_impot"],
        "modalities": ["france_connect"],
    }
    post_step(client, request_id, "projet", forged)
    data = reload(AuthorizationRequest, request_id).data
    assert data["scopes"] == ["cnaf_quotient_familial", "cnaf_allocataires"]
    assert data["modalities"] == ["params"]


def test_locked_scopes_cannot_be_unticked(client, db, agent):
    form = CATALOG.form("api-particulier-aides-sociales-ccas")
    request_id = start(client, form)
    post_step(client, request_id, "donnees", {"scopes": ["cnaf_enfants"]})
    request = reload(AuthorizationRequest, request_id)
    assert request.data["scopes"] == ["cnaf_enfants"]


def test_contacts_its_me_fills_a_card_from_the_profile(client, db, login_as):
    user = login_as(
        given_name="Léa",
        family_name="Martin",
        phone_number="0601020304",
        job_title="Travailleuse sociale",
    )
    form = CATALOG.form("api-particulier")
    request_id = start(client, form)
    response = post_step(client, request_id, "contacts", {}, action="itsme:contact_technique")
    assert response.status_code == 302
    data = reload(AuthorizationRequest, request_id).data
    assert data["contact_technique_email"] == user.email
    assert data["contact_technique_given_name"] == "Léa"
    # Not offered for the DPO, who must stay independent of the applicant's service.
    post_step(client, request_id, "contacts", {}, action="itsme:delegue_protection_donnees")
    assert not reload(AuthorizationRequest, request_id).data.get("delegue_protection_donnees_email")
    # The controller may be the applicant (a CCAS director filing for the board).
    post_step(client, request_id, "contacts", {}, action="itsme:responsable_traitement")
    data = reload(AuthorizationRequest, request_id).data
    assert data["responsable_traitement_email"] == user.email


def test_contacts_step_shows_four_fieldsets(client, agent):
    form = CATALOG.form("api-particulier")
    request_id = start(client, form)
    page = client.get(f"/demandes/{request_id}/etapes/contacts").text
    positions = [
        page.index(f">{label}</legend>")
        for label in (
            "Responsable de traitement",
            "Délégué à la protection des données",
            "Contact technique",
            "Contact métier",
        )
    ]
    assert positions == sorted(positions)
    for label in ("Nom", "Prénom", "Email", "Téléphone", "Fonction"):
        assert f">{label}<" in page
    # The controller, the technical and the business contacts; never the DPO.
    assert page.count("C’est moi</button>") == 3
    assert 'value="itsme:delegue_protection_donnees"' not in page
    # The DPO's « Fonction » is implied, not asked.
    assert 'name="delegue_protection_donnees_job_title"' not in page
    assert "Fonction&nbsp;: Délégué à la protection des données (déduite de son rôle" in page


def test_bad_phone_and_email_are_refused(client, agent):
    form = CATALOG.form("api-particulier")
    request_id = start(client, form)
    from tests.support.wizard import contact_answers

    answers = contact_answers(form)
    answers["contact_technique_phone_number"] = "12"
    answers["contact_metier_email"] = "pas-un-email"
    response = post_step(client, request_id, "contacts", answers)
    assert response.status_code == 422
    assert 'aria-invalid="true"' in response.text
    answers["contact_technique_phone_number"] = "+590 590 12 34 56"
    answers["contact_metier_email"] = "Metier@CCAS-Chaville.fr"
    assert post_step(client, request_id, "contacts", answers).status_code == 302


def test_submission_requires_terms_and_dpo(client, db, agent):
    form = CATALOG.form("api-particulier-ccas-arche-mc2")
    request_id = start(client, form)
    fill_all(client, form, request_id)
    response = submit(client, request_id, form, terms_of_service_accepted=None)
    assert response.status_code == 422
    assert reload(AuthorizationRequest, request_id).state == workflow.DRAFT


def test_incomplete_request_cannot_be_submitted(client, db, agent):
    form = CATALOG.form("api-particulier")
    request_id = start(client, form)
    response = submit(client, request_id, form)
    assert response.status_code == 422
    assert "La demande ne peut pas encore être soumise" in response.text
    assert 'href="#bloc-basic_infos"' in response.text
    assert reload(AuthorizationRequest, request_id).state == workflow.DRAFT


def test_first_submission_changelog_against_prefill(client, db, agent):
    form = CATALOG.form("api-particulier-ccas-arche-mc2")
    request_id = start(client, form)
    fill_all(client, form, request_id)
    submit(client, request_id, form)
    event = next(e for e in reload(AuthorizationRequest, request_id).events if e.name == "submit")
    changes = event.payload["changes"]
    assert "intitule" in str(changes)  # the pre-filled intitulé was changed by the applicant


def test_closed_establishment_cannot_go_on(client, db, login_as):
    user = login_as()
    form = CATALOG.form("api-particulier")
    request_id = start(client, form)
    user.current_organization.administrative_state = "F"
    db.session.commit()
    response = post_step(client, request_id, "organisation", {})
    assert response.status_code == 422
    assert "fermé" in response.text


def test_submitted_request_is_read_only(client, db, agent):
    form = CATALOG.form("api-particulier-ccas-arpege")
    request_id = start(client, form)
    fill_all(client, form, request_id)
    submit(client, request_id, form)
    response = client.get(f"/demandes/{request_id}/etapes/projet")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/demandes/{request_id}")


def test_a_step_posted_from_a_stale_page_is_refused(client, db, agent):
    form = CATALOG.form("api-particulier")
    request_id = start(client, form)
    page = client.get(f"/demandes/{request_id}/etapes/projet")
    version = page.text.split('name="version" value="')[1].split('"')[0]
    # Another tab saves meanwhile.
    post_step(client, request_id, "projet", {"intitule": "Depuis l’autre onglet"}, action="save")
    response = post_form(
        client,
        f"/demandes/{request_id}/etapes/projet",
        {"version": version, "intitule": "Ancien onglet"},
        page=page,
    )
    assert response.status_code == 409
    assert "modifiée entre-temps" in response.text
    assert reload(AuthorizationRequest, request_id).data["intitule"] == "Depuis l’autre onglet"
