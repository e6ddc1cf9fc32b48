"""The applicant's request lifecycle, called on the services directly (no HTTP)."""

from __future__ import annotations

import io

import pytest
from werkzeug.datastructures import FileStorage, MultiDict

from datapass import blocks, workflow
from datapass.catalog import get_catalog
from datapass.services import authorization_requests, submission
from datapass.services.authorization_requests import RequestError
from tests.factories import OrganizationFactory, UserFactory
from tests.support.wizard import valid_answers

MILLESIME = "api-particulier-ccas-arche-mc2"
GENERIC = "api-particulier"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def applicant(db):
    return UserFactory()


def form(uid: str = MILLESIME):
    return get_catalog().form(uid)


def step_of(catalog_form, block_id: str) -> blocks.Step:
    return next(step for step in blocks.steps(catalog_form) if step.block == block_id)


def started(applicant, uid: str = MILLESIME, **kwargs):
    return authorization_requests.start_request_for_applicant(applicant, form(uid), **kwargs)


def test_start_takes_the_form_defaults_then_the_prefill_and_records_them(applicant):
    catalog_form = form(GENERIC)
    prefill = {"intitule": "Portail famille", "scopes": ["cnaf_quotient_familial"]}
    request = started(applicant, GENERIC, prefill=prefill)
    assert request.state == workflow.DRAFT
    assert request.intitule == "Portail famille"
    assert "cnaf_quotient_familial" in request.data["scopes"]
    created = request.events[0]
    assert created.name == "create"
    assert created.payload["prefilled_keys"] == ["intitule", "scopes"]
    assert authorization_requests.prefilled_blocks(request, catalog_form) >= {
        "basic_infos",
        "scopes",
    }


def test_start_is_refused_without_an_organisation_or_for_a_closed_one(db):
    nobody = UserFactory(current_organization=None)
    with pytest.raises(RequestError, match="Choisissez d’abord l’organisation"):
        started(nobody)
    closed = UserFactory(current_organization=OrganizationFactory(administrative_state="F"))
    with pytest.raises(RequestError, match="fermé"):
        started(closed)


def test_locked_blocks_keep_the_form_values_whatever_is_written(applicant):
    catalog_form = form()
    request = started(applicant)
    locked = set(catalog_form.locked_scopes)
    authorization_requests.write_answers(request, catalog_form, {"scopes": [], "modalities": []})
    assert locked <= set(request.data["scopes"])
    assert request.data["modalities"] == list(catalog_form.initialize_with["modalities"])


def test_save_step_saves_what_was_typed_even_when_invalid(applicant):
    catalog_form = form(GENERIC)  # nothing pre-filled (Millésime pre-fills the treatment)
    request = started(applicant, GENERIC)
    step = step_of(catalog_form, "personal_data")
    posted = MultiDict({"duree_conservation_donnees_caractere_personnel": " 48 <b>mois</b>"})
    outcome = authorization_requests.save_step(
        request, catalog_form, step, posted, user=applicant, action="next"
    )
    assert not outcome.ok
    assert request.data["duree_conservation_donnees_caractere_personnel"] == "48 mois"
    assert "destinataire_donnees_caractere_personnel" in outcome.errors


def test_save_step_points_to_an_earlier_incomplete_step(applicant):
    catalog_form = form()
    request = started(applicant)
    step = step_of(catalog_form, "contacts")
    posted = MultiDict(valid_answers(catalog_form, "contacts"))
    outcome = authorization_requests.save_step(
        request, catalog_form, step, posted, user=applicant, action="next"
    )
    assert outcome.ok
    # Millésime pre-fills the project, the legal basis and the treatment: no gap is left.
    assert outcome.incomplete is None
    generic = form(GENERIC)
    other = started(applicant, GENERIC)
    outcome = authorization_requests.save_step(
        other,
        generic,
        step_of(generic, "contacts"),
        MultiDict(valid_answers(generic, "contacts")),
        user=applicant,
        action="next",
    )
    assert outcome.ok
    assert outcome.incomplete is not None
    # Nothing is pre-filled in the free form: the first gap is the project.
    assert outcome.incomplete.block == "basic_infos"


def test_save_step_from_a_stale_page_changes_nothing(applicant):
    catalog_form = form()
    request = started(applicant)
    step = step_of(catalog_form, "basic_infos")
    stale = str(request.version - 1)
    outcome = authorization_requests.save_step(
        request, catalog_form, step, MultiDict({"intitule": "Autre"}), user=applicant, version=stale
    )
    assert outcome.stale
    assert request.data.get("intitule") != "Autre"


def test_its_me_fills_a_contact_card_with_the_profile(applicant):
    catalog_form = form()
    request = started(applicant)
    step = step_of(catalog_form, "contacts")
    outcome = authorization_requests.save_step(
        request, catalog_form, step, MultiDict(), user=applicant, action="itsme:contact_metier"
    )
    assert outcome.stay
    assert request.data["contact_metier_email"] == applicant.email
    # Millésime's technical contact is its editor's support team from the start.
    contacts = {c.contact_type: c.email for c in request.contacts}
    assert contacts == {
        "contact_metier": applicant.email,
        "contact_technique": catalog_form.editor.contact.email,
    }
    # The DPO cannot be « me »: nothing is filled.
    authorization_requests.save_step(
        request,
        catalog_form,
        step,
        MultiDict(),
        user=applicant,
        action="itsme:delegue_protection_donnees",
    )
    assert not request.data.get("delegue_protection_donnees_email")


def test_a_refused_upload_keeps_the_typed_answers(applicant):
    catalog_form = form()
    request = started(applicant)
    step = step_of(catalog_form, "legal")
    files = MultiDict(
        {"cadre_juridique_document": FileStorage(io.BytesIO(b"not a pdf"), "deliberation.pdf")}
    )
    outcome = authorization_requests.save_step(
        request,
        catalog_form,
        step,
        MultiDict({"cadre_juridique_nature": "Délibération du 12/10/2023"}),
        user=applicant,
        files=files,
    )
    assert outcome.upload_errors["cadre_juridique_document"]
    assert request.data["cadre_juridique_nature"] == "Délibération du 12/10/2023"
    assert request.documents == []
    good = MultiDict({"cadre_juridique_document": FileStorage(io.BytesIO(PDF), "délib.pdf")})
    outcome = authorization_requests.save_step(
        request, catalog_form, step, MultiDict(), user=applicant, files=good
    )
    assert outcome.ok
    assert [d.filename for d in request.documents] == ["délib.pdf"]


def test_clean_answers_names_unknown_locked_and_badly_typed_fields(db):
    catalog_form = form()
    cleaned, problems = blocks.clean_answers(
        catalog_form,
        {
            "intitule": "  <i>Portail</i> ",
            "scopes": ["cnaf_quotient_familial"],
            "inconnu": "x",
            "description": {"a": 1},
            "cadre_juridique_document": "x.pdf",
        },
    )
    assert cleaned == {"intitule": "Portail"}
    kinds = {problem.field: problem.title for problem in problems}
    assert kinds == {
        "scopes": "Champ verrouillé",
        "inconnu": "Champ inconnu",
        "description": "Valeur invalide",
        "cadre_juridique_document": "Champ inconnu",
    }


def test_prefill_keeps_only_allowed_and_valid_values(db):
    catalog_form = form(GENERIC)
    args = MultiDict(
        [
            ("intitule", "Portail"),
            ("scopes[]", "cnaf_quotient_familial"),
            ("scopes[]", "not_a_scope"),
            ("date_prevue_mise_en_production", "demain"),
            ("duree_conservation_donnees_caractere_personnel", "24"),
            ("contact_technique_email", "someone@example.org"),
        ]
    )
    assert blocks.prefill_from_query(catalog_form, args) == {
        "intitule": "Portail",
        "scopes": ["cnaf_quotient_familial"],
        "duree_conservation_donnees_caractere_personnel": "24",
    }


def complete(applicant, uid: str = MILLESIME):
    catalog_form = form(uid)
    request = started(applicant, uid)
    typed = {}
    for block_id in catalog_form.editable_steps:
        typed.update(valid_answers(catalog_form, block_id))
    assert authorization_requests.fill_request(request, catalog_form, typed) == []
    return request, catalog_form


def test_submit_refuses_an_incomplete_request_and_changes_nothing(applicant):
    request = started(applicant)
    result = submission.submit_request(
        request, form(), applicant, terms_accepted=False, dpo_informed=False
    )
    assert not result.ok
    assert "terms_of_service_accepted" in result.errors["summary"]
    assert "contacts" in result.errors  # Millésime pre-fills every other block
    assert request.state == workflow.DRAFT


def test_submit_records_the_changes_against_the_prefill(applicant):
    request, catalog_form = complete(applicant)
    result = submission.submit_request(
        request, catalog_form, applicant, terms_accepted=True, dpo_informed=True
    )
    assert result.ok
    assert request.state == workflow.SUBMITTED
    submitted = request.events[-1]
    assert submitted.name == "submit"
    assert submitted.payload["first_submission"] is True
    prefilled = catalog_form.initialize_with["intitule"]
    assert submitted.payload["changes"]["fields"]["intitule"] == [prefilled, request.intitule]


def test_submit_by_someone_else_is_refused(applicant):
    request, catalog_form = complete(applicant)
    other = UserFactory(current_organization=applicant.current_organization)
    with pytest.raises(RequestError):
        submission.submit_request(
            request, catalog_form, other, terms_accepted=True, dpo_informed=True
        )
    assert request.state == workflow.DRAFT


def test_archive_then_no_more_edits(applicant):
    request = started(applicant)
    authorization_requests.archive_request(request, applicant)
    assert request.state == workflow.ARCHIVED
    with pytest.raises(RequestError, match="ne peut plus être modifiée"):
        authorization_requests.write_answers(request, form(), {"intitule": "x"})
    with pytest.raises(RequestError):
        authorization_requests.archive_request(request, applicant)


def test_confirm_organization_refuses_a_bad_siret_and_keeps_the_old_one(applicant):
    request = started(applicant)
    before = request.organization
    with pytest.raises(Exception) as raised:
        authorization_requests.confirm_organization(request, applicant, "123")
    assert raised.value.field == "siret"
    assert request.organization == before
