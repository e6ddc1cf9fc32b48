"""What the instruction prepares besides the recipient (issue 17.1): the answers of any block
of the démarche and documents, carried into the draft its applicant claims."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from sqlalchemy import select

from datapass.models import AuthorizationRequest, Document, Invitation, Organization
from datapass.models.base import utcnow
from datapass.services import housekeeping
from datapass.storage import get_storage
from tests.factories import OrganizationFactory, UserFactory
from tests.support.http import csrf_token, post_form, reload
from tests.views.test_invitations import _invite

INSTRUCTOR = "api_particulier:instructor"
FORM = "api-particulier-aides-sociales-ccas"
SIRET = "26920023400012"
EMAIL = "futur.agent@ccas.example.fr"
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
DPO = {
    "delegue_protection_donnees_family_name": "Martin",
    "delegue_protection_donnees_given_name": "Claire",
    "delegue_protection_donnees_email": "dpo@ccas.example.fr",
    "delegue_protection_donnees_phone_number": "01 41 15 40 01",
}


@pytest.fixture
def invitation(client, db, login_as):
    """An instructor prepared a request (not sent yet)."""
    organization = OrganizationFactory(siret=SIRET)
    db.session.commit()
    login_as(roles=[INSTRUCTOR])
    url = f"/instruction/brouillons/nouveau?formulaire={FORM}"
    response = post_form(client, url, {"siret": organization.siret, "email": EMAIL})
    assert response.status_code == 302
    return db.session.scalars(select(Invitation)).one()


def block_url(invitation, slug: str) -> str:
    return f"/instruction/brouillons/{invitation.id}/blocs/{slug}"


def post_block(client, invitation, slug, data, **kwargs):
    return post_form(client, block_url(invitation, slug), data, **kwargs)


def upload(client, invitation, content=PDF, name="délibération.pdf"):
    return post_block(
        client,
        invitation,
        "cadre-juridique",
        {
            "cadre_juridique_nature": "Délibération du conseil d’administration du 12 mars",
            "cadre_juridique_document": [(io.BytesIO(content), name)],
        },
        content_type="multipart/form-data",
    )


def claim(client, db, login_as, invitation) -> AuthorizationRequest:
    login_as(roles=[INSTRUCTOR])
    secret = _invite(client, db, invitation.id)
    organization = db.session.scalar(select(Organization).where(Organization.siret == SIRET))
    login_as(UserFactory(email=EMAIL, current_organization=organization))
    page = client.get(f"/invitations/{secret}")
    for document in reload(invitation).documents:
        assert f"«&nbsp;{document.filename}&nbsp;»" in page.text
    response = client.post(f"/invitations/{secret}", data={"csrf_token": csrf_token(page.text)})
    assert response.status_code == 302, page.text[:500]
    return db.session.scalars(select(AuthorizationRequest)).one()


def test_the_show_page_offers_every_editable_block(client, invitation):
    page = client.get(f"/instruction/brouillons/{invitation.id}")
    assert page.status_code == 200
    for slug in ("projet", "cadre-juridique", "modalites", "donnees", "donnees-personnelles"):
        assert f'href="{block_url(invitation, slug)}"' in page.text, slug
    assert f'href="{block_url(invitation, "contacts")}"' in page.text
    assert client.get(block_url(invitation, "synthese")).status_code == 404
    assert client.get(block_url(invitation, "organisation")).status_code == 404


def test_any_block_is_answered_with_nothing_required(client, db, invitation):
    page = client.get(block_url(invitation, "contacts"))
    assert page.status_code == 200
    assert "C’est moi" not in page.text  # the instructor is not the applicant
    response = post_block(client, invitation, "contacts", DPO, page=page)
    assert response.status_code == 302
    # Empty required fields (the other contacts) are left to the applicant.
    answers = reload(invitation).answers
    assert {key: answers[key] for key in DPO} == DPO
    assert "responsable_traitement_email" not in answers

    response = post_block(
        client,
        invitation,
        "donnees-personnelles",
        {"destinataire_donnees_caractere_personnel": "Les agents instructeurs du CCAS"},
    )
    assert response.status_code == 302
    answers = reload(invitation).answers
    assert answers["destinataire_donnees_caractere_personnel"] == "Les agents instructeurs du CCAS"
    assert "delegue_protection_donnees_email" in answers  # the other block kept
    shown = client.get(f"/instruction/brouillons/{invitation.id}").text
    assert "Les agents instructeurs du CCAS" in shown and "dpo@ccas.example.fr" in shown


def test_a_filled_field_is_checked_as_on_the_applicant_step(client, db, invitation):
    bad = {**DPO, "delegue_protection_donnees_email": "pas-une-adresse"}
    response = post_block(client, invitation, "contacts", bad)
    assert response.status_code == 422
    assert 'id="delegue_protection_donnees_email-message-error"' in response.text
    assert 'value="pas-une-adresse"' in response.text  # nothing typed lost
    assert 'value="Claire"' in response.text
    assert "<title>Erreur" in response.text
    assert reload(invitation).answers == {}  # nothing saved


def test_documents_are_checked_stored_and_downloadable_by_the_instruction(client, db, invitation):
    refused = upload(client, invitation, content=b"<html>not a pdf</html>", name="acte.pdf")
    assert refused.status_code == 422
    assert "n’est pas un PDF" in refused.text
    assert 'id="cadre_juridique_document-message-error"' in refused.text
    assert reload(invitation).documents == []

    assert upload(client, invitation).status_code == 302
    [document] = reload(invitation).documents
    assert (document.filename, document.authorization_request_id) == ("délibération.pdf", None)
    assert get_storage().exists(document.storage_key)
    download = client.get(f"/instruction/brouillons/{invitation.id}/documents/{document.id}")
    assert download.status_code == 200 and download.data == PDF
    download.close()
    page = client.get(block_url(invitation, "cadre-juridique"))
    assert "délibération.pdf" in page.text and "Retirer" in page.text
    assert "modele-deliberation" not in page.text  # the applicant's model, not here


def test_another_definitions_instructor_sees_nothing(client, db, login_as, invitation):
    upload(client, invitation)
    [document] = reload(invitation).documents
    login_as(roles=["api_entreprise:instructor"])
    assert client.get(block_url(invitation, "projet")).status_code == 404
    url = f"/instruction/brouillons/{invitation.id}/documents/{document.id}"
    assert client.get(url).status_code == 404


def test_the_claimed_draft_carries_answers_and_documents(client, db, login_as, invitation):
    post_block(client, invitation, "contacts", DPO)
    upload(client, invitation)
    [document] = reload(invitation).documents
    draft = claim(client, db, login_as, invitation)
    assert {key: draft.data[key] for key in DPO} == DPO
    assert draft.data["cadre_juridique_nature"].startswith("Délibération du conseil")
    assert [d.id for d in draft.documents] == [document.id]
    assert reload(Document, document.id).invitation_id is None
    assert draft.events[0].payload["documents"] == 1
    # The applicant downloads it, and can change what was prepared.
    download = client.get(f"/demandes/{draft.id}/documents/{document.id}")
    assert download.status_code == 200 and download.data == PDF
    download.close()
    step = client.get(f"/demandes/{draft.id}/etapes/contacts")
    assert 'value="dpo@ccas.example.fr"' in step.text
    # Nothing more to edit on the consumed invitation.
    login_as(roles=[INSTRUCTOR])
    refused = client.get(block_url(invitation, "projet"))
    assert refused.status_code == 302


def test_cancelling_deletes_the_documents_and_their_files(client, db, invitation):
    upload(client, invitation)
    [document] = reload(invitation).documents
    key = document.storage_key
    post_form(
        client,
        f"/instruction/brouillons/{invitation.id}/annulation",
        page=f"/instruction/brouillons/{invitation.id}",
    )
    assert reload(Document, document.id) is None
    assert not get_storage().exists(key)


def test_documents_of_expired_invitations_go_with_the_housekeeping(app, client, db, invitation):
    upload(client, invitation)
    [document] = reload(invitation).documents
    key = document.storage_key
    _invite(client, db, invitation.id)
    fresh = reload(invitation)
    fresh.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    with app.test_request_context():
        assert housekeeping.clean_up(utcnow()) >= 1
    assert reload(Document, document.id) is None
    assert not get_storage().exists(key)


def test_unclaimed_invitations_are_forgotten_after_the_retention(app, client, db, invitation):
    post_block(client, invitation, "contacts", DPO)
    _invite(client, db, invitation.id)
    assert reload(invitation).answers
    retention = timedelta(days=app.config["INVITATION_RETENTION_DAYS"])
    fresh = reload(invitation)
    fresh.expires_at = utcnow() - retention + timedelta(days=1)  # expired, still kept
    db.session.commit()
    with app.test_request_context():
        housekeeping.clean_up(utcnow())
    assert reload(invitation).email == EMAIL
    fresh = reload(invitation)
    fresh.expires_at = utcnow() - retention - timedelta(minutes=1)
    db.session.commit()
    with app.test_request_context():
        assert housekeeping.clean_up(utcnow()) >= 1
    forgotten = reload(invitation)
    assert (forgotten.answers, forgotten.note, forgotten.email) == ({}, None, "")
    # It cannot be sent to nobody.
    page = client.get(f"/instruction/brouillons/{invitation.id}")
    response = client.post(
        f"/instruction/brouillons/{invitation.id}/invitation",
        data={"csrf_token": csrf_token(page.text)},
        follow_redirects=True,
    )
    assert "Cette invitation ne peut plus être envoyée." in response.text
    assert reload(invitation).sent_at == forgotten.sent_at


@pytest.mark.parametrize(
    "form_uid",
    [
        "api-particulier-aides-sociales-ccas",
        "api-particulier-ccas-arche-mc2",  # an editor's démarche: contacts it fixes
    ],
)
def test_every_editable_block_page_renders(client, db, login_as, form_uid):
    from datapass import blocks
    from datapass.catalog import get_catalog

    organization = OrganizationFactory(siret=SIRET)
    db.session.commit()
    login_as(roles=[INSTRUCTOR])
    url = f"/instruction/brouillons/nouveau?formulaire={form_uid}"
    post_form(client, url, {"siret": organization.siret, "email": EMAIL})
    invitation = db.session.scalars(select(Invitation)).one()
    catalog_form = get_catalog().form(form_uid)
    for step in blocks.steps(catalog_form):
        if step.is_block:
            page = client.get(block_url(invitation, step.slug))
            assert page.status_code == 200, step.slug
            assert page.text.count("<title>") == 1
            # Saving the page as shown keeps it valid.
            assert post_block(client, invitation, step.slug, {}, page=page).status_code == 302


def test_a_default_scope_unticked_stays_unticked_in_the_draft(client, db, login_as, invitation):
    page = client.get(block_url(invitation, "donnees"))
    assert 'value="cnaf_quotient_familial" checked' in page.text  # the démarche's default
    response = post_block(client, invitation, "donnees", {"scopes": ["cnaf_adresse"]}, page=page)
    assert response.status_code == 302
    page = client.get(block_url(invitation, "donnees"))
    assert 'value="cnaf_quotient_familial" checked' not in page.text
    assert 'value="cnaf_adresse" checked' in page.text
    draft = claim(client, db, login_as, invitation)
    assert draft.data["scopes"] == ["cnaf_adresse"]


def test_a_document_is_removed_with_its_file(client, db, invitation):
    upload(client, invitation)
    [document] = reload(invitation).documents
    key = document.storage_key
    page = client.get(block_url(invitation, "cadre-juridique"))
    response = post_block(
        client,
        invitation,
        "cadre-juridique",
        {"cadre_juridique_nature": "Délibération", "remove_document": str(document.id)},
        page=page,
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(block_url(invitation, "cadre-juridique"))
    assert reload(invitation).documents == []
    assert not get_storage().exists(key)
