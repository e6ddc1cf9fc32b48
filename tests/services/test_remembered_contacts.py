"""Remembered contacts: a new request starts with the contacts of its organisation's last
submitted or validated request of the same definition."""

from __future__ import annotations

import pytest
from werkzeug.datastructures import MultiDict

from datapass import blocks
from datapass.blocks.contacts import remembered_notice
from datapass.catalog import get_catalog
from datapass.extensions import db
from datapass.models import Membership
from datapass.services import authorization_requests
from tests.factories import OrganizationFactory, UserFactory
from tests.support.authorization_requests import submitted_request

MILLESIME = "api-particulier-ccas-arche-mc2"
SONATE = "api-particulier-ccas-arpege"
GENERIC = "api-particulier-aides-sociales-ccas"
NOTICE = "Contacts repris de votre demande D{id}\u00a0: vérifiez-les"
PERSON = {
    "responsable_traitement_family_name": "Tilly",
    "responsable_traitement_given_name": "Armelle",
    "responsable_traitement_email": "direction@ccas-chaville.fr",
    "responsable_traitement_phone_number": "01 41 15 40 00",
    "responsable_traitement_job_title": "Vice-présidente du CCAS",
}


@pytest.fixture
def applicant(db):
    return UserFactory()


def start(user, uid=MILLESIME):
    return authorization_requests.start_request_for_applicant(user, get_catalog().form(uid))


def test_a_new_request_starts_with_the_last_requests_contacts_and_says_so(applicant):
    first = submitted_request(applicant, **PERSON)
    second = start(applicant)
    for key, value in PERSON.items():
        assert second.data[key] == value
    # Every person of the first request, the DPO and the business contact included.
    assert second.data["contact_metier_email"] == first.data["contact_metier_email"]
    assert (
        second.data["delegue_protection_donnees_email"]
        == (first.data["delegue_protection_donnees_email"])
    )
    assert {c.contact_type for c in second.contacts} >= {"responsable_traitement"}
    form = get_catalog().form(MILLESIME)
    assert remembered_notice(second) == NOTICE.format(id=first.id)
    # Only the contacts' step is concerned: 0 contact left to type.
    assert not blocks.validate_block(form, "contacts", second)


def test_the_applicants_typing_wins_and_stays_editable(applicant):
    submitted_request(applicant, **PERSON)
    second = start(applicant)
    form = get_catalog().form(MILLESIME)
    step = next(s for s in blocks.steps(form) if s.block == "contacts")
    posted = MultiDict({"responsable_traitement_email": "maire@chaville.fr"})
    authorization_requests.save_step(second, form, step, posted, user=applicant, action="save")
    assert second.data["responsable_traitement_email"] == "maire@chaville.fr"
    assert second.data["responsable_traitement_family_name"] == "Tilly"


def test_never_a_draft_nor_a_request_of_another_organisation(applicant):
    # A draft of the same organisation is not remembered.
    draft = start(applicant)
    authorization_requests.fill_request(draft, get_catalog().form(MILLESIME), PERSON)
    assert not start(applicant).data.get("responsable_traitement_email")
    # Another organisation's submitted request is not either.
    stranger = UserFactory()
    submitted_request(stranger, **PERSON)
    fresh = start(applicant)
    assert not fresh.data.get("responsable_traitement_email")
    assert not any(e.payload.get("contacts_from") for e in fresh.events)


def test_a_locked_or_proposed_editor_contact_is_never_overwritten(applicant):
    submitted_request(applicant, form_uid=GENERIC, **PERSON)
    millesime = get_catalog().form(MILLESIME)
    locked = start(applicant, MILLESIME)
    assert locked.data["contact_technique_email"] == millesime.editor.contact.email
    assert locked.data["responsable_traitement_email"] == PERSON["responsable_traitement_email"]
    sonate = get_catalog().form(SONATE)
    proposed = start(applicant, SONATE)
    assert proposed.data["contact_technique_email"] == sonate.editor.contact.email


def test_an_editors_support_is_not_carried_to_another_demarche(applicant):
    submitted_request(applicant, form_uid=MILLESIME, **PERSON)
    generic = start(applicant, GENERIC)
    assert not generic.data.get("contact_technique_email")
    assert generic.data["responsable_traitement_email"] == PERSON["responsable_traitement_email"]


def test_an_unverified_member_gets_only_their_own_requests_contacts(applicant):
    organization = applicant.current_organization
    submitted_request(applicant, **PERSON)
    newcomer = UserFactory(current_organization=None)
    newcomer.memberships.append(Membership(organization=organization, verified=False))
    newcomer.current_organization = organization
    db.session.commit()
    assert not start(newcomer).data.get("responsable_traitement_email")
    colleague = UserFactory(current_organization=organization)  # a verified member
    db.session.commit()
    assert (
        start(colleague).data["responsable_traitement_email"]
        == (PERSON["responsable_traitement_email"])
    )


def test_changing_the_organisation_forgets_the_values_still_as_remembered(applicant, app):
    submitted_request(applicant, **PERSON)
    second = start(applicant)
    form = get_catalog().form(MILLESIME)
    authorization_requests.fill_request(
        second, form, {"contact_metier_email": "gardee@ccas-chaville.fr"}
    )
    other = OrganizationFactory()
    applicant.memberships.append(Membership(organization=other, verified=True))
    db.session.commit()
    second.organization = other
    from datapass.services.remembered_contacts import forget_for_another_organization

    forget_for_another_organization(second, form)
    assert not second.data.get("responsable_traitement_email")
    assert second.data["contact_metier_email"] == "gardee@ccas-chaville.fr"  # typed: kept
    assert remembered_notice(second) is None


def test_the_organisation_step_forgets_them_for_another_siret(applicant):
    submitted_request(applicant, **PERSON)
    second = start(applicant)
    other = OrganizationFactory(siret="38251931200088")  # a valid SIRET, already known
    db.session.commit()
    authorization_requests.confirm_organization(second, applicant, other.siret)
    assert second.organization_id == other.id
    assert not second.data.get("responsable_traitement_email")
    assert "responsable_traitement" not in {c.contact_type for c in second.contacts}
    assert remembered_notice(second) is None


def test_the_contacts_step_shows_the_notice(client, login_as):
    user = login_as()
    first = submitted_request(user, **PERSON)
    from tests.support.wizard import start as start_in_browser

    request_id = start_in_browser(client, get_catalog().form(MILLESIME))
    page = client.get(f"/demandes/{request_id}/etapes/contacts").text
    assert NOTICE.format(id=first.id) in page
    assert 'id="remembered-contacts"' in page
    assert 'value="direction@ccas-chaville.fr"' in page
