"""Choosing a démarche, deep links and pre-fill, uploads, permissions, dashboard."""

from __future__ import annotations

import gc
import io

import pytest
from sqlalchemy import event

from datapass.catalog import DEFAULT_DIR, load_catalog
from datapass.extensions import db as _db
from datapass.models import AuthorizationRequest, Document
from datapass.storage import get_storage
from tests.factories import UserFactory
from tests.support.http import post_form, reload
from tests.support.wizard import fill_all, post_step, start, submit, upload_documents

CATALOG = load_catalog(DEFAULT_DIR)
FREE = CATALOG.form("api-particulier")
FACULTATIVES = CATALOG.form("api-particulier-aides-sociales-ccas-dont-facultatives")
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


@pytest.fixture
def agent(login_as):
    return login_as()


# ---------------------------------------------------------------- choosing a démarche


def test_choice_page_asks_who_integrates(client, db):
    page = client.get("/demandes/api_particulier/nouveau")
    assert page.status_code == 200
    assert "Qui se charge techniquement de l’intégration de l’API" in page.text
    for label in ("Vos développeurs", "Votre éditeur", "Ni équipe technique, ni éditeur"):
        assert label in page.text


def test_developers_see_forms_without_editor_filtered_by_use_case(client, db):
    page = client.get("/demandes/api_particulier/nouveau?integration=developpeurs&use_case=ccas")
    assert "/formulaires/api-particulier-aides-sociales-ccas/demande/nouveau" in page.text
    assert "/formulaires/api-particulier-pass-famille/" not in page.text
    assert "/formulaires/api-particulier-ccas-arpege/" not in page.text


def test_editors_are_listed_alphabetically_then_their_forms(client, db):
    page = client.get("/demandes/api_particulier/nouveau?integration=editeur")
    assert page.text.index("Arche MC2") < page.text.index("Arpège")
    assert "Aucun de ces éditeurs" in page.text
    forms = client.get("/demandes/api_particulier/nouveau?integration=editeur&editeur=arpege")
    assert "/formulaires/api-particulier-ccas-arpege/demande/nouveau" in forms.text
    none = client.get("/demandes/api_particulier/nouveau?integration=editeur&editeur=aucun")
    assert "support" in none.text.lower()


def test_no_team_nor_editor_explains_prerequisites(client, db):
    page = client.get("/demandes/api_particulier/nouveau?integration=aucun")
    assert "quotient-familial.numerique.gouv.fr" in page.text


@pytest.mark.parametrize(
    ("legacy", "uid"),
    [
        ("ccas", "api-particulier-aides-sociales-ccas"),
        ("ccas-arpege", "api-particulier-ccas-arpege"),
    ],
)
def test_v1_links_redirect_to_the_form(client, db, legacy, uid):
    response = client.get(f"/api-particulier?demarche={legacy}")
    assert response.status_code == 301
    assert response.headers["Location"].endswith(f"/formulaires/{uid}/demande/nouveau")


def test_deep_link_works_signed_out(client, db):
    page = client.get("/formulaires/api-particulier-ccas-arche-mc2/demande/nouveau")
    assert page.status_code == 200
    assert "Millésime Action Sociale" in page.text and "Arche MC2" in page.text
    assert "/connexion?next=" in page.text
    assert client.get("/formulaires/inconnu/demande/nouveau").status_code == 404


def test_deep_link_shows_organisation_and_steps(client, agent):
    page = client.get("/formulaires/api-particulier-ccas-arche-mc2/demande/nouveau")
    assert agent.current_organization.siret in page.text
    assert "Débuter ma demande" in page.text
    assert "Le cadre juridique" in page.text


# ---------------------------------------------------------------- pre-fill


def test_prefill_precedence_and_allowlist(client, db, agent):
    query = (
        "?intitule=Portail%20<script>x</script>famille&scopes[]=cnaf_enfants&scopes[]=inconnu"
        "&contact_technique_email=pirate@example.com&state=validated"
        "&duree_conservation_donnees_caractere_personnel=douze"
    )
    request_id = start(client, FACULTATIVES, query)
    data = reload(AuthorizationRequest, request_id).data
    assert data["intitule"] == "Portail xfamille"  # query beats the form default, sanitised
    assert data["scopes"] == ["cnaf_quotient_familial", "cnaf_enfants"]  # default + query
    assert "contact_technique_email" not in data  # contacts are never pre-filled
    assert "duree_conservation_donnees_caractere_personnel" not in data  # bad value skipped
    assert reload(AuthorizationRequest, request_id).state == "draft"
    # What the applicant types wins.
    post_step(client, request_id, "projet", {"intitule": "Mon portail"}, action="save")
    assert reload(AuthorizationRequest, request_id).data["intitule"] == "Mon portail"


def test_prefilled_blocks_show_a_notice(client, agent):
    request_id = start(client, FREE, "?volumetrie_approximative=100")
    notice = "Nous avons pré-rempli des informations pour vous aider"
    assert notice in client.get(f"/demandes/{request_id}/etapes/projet").text
    assert notice not in client.get(f"/demandes/{request_id}/etapes/contacts").text


def test_intro_without_parameters_clears_the_prefill(client, db, agent):
    client.get(f"/formulaires/{FREE.uid}/demande/nouveau?intitule=Ancien")
    request_id = start(client, FREE)
    assert "intitule" not in reload(AuthorizationRequest, request_id).data


# ---------------------------------------------------------------- uploads


def upload(client, request_id, files, extra=None):
    return upload_documents(client, request_id, files, extra)


def test_a_pdf_is_stored_listed_and_downloadable(client, db, agent):
    request_id = start(client, FACULTATIVES)
    response = upload(client, request_id, [(io.BytesIO(PDF), "délibération CA.pdf")])
    assert response.status_code == 302
    request = reload(AuthorizationRequest, request_id)
    [document] = request.documents
    assert document.filename == "délibération CA.pdf"
    assert document.size == len(PDF) and len(document.sha256) == 64
    assert "délibération" not in document.storage_key
    assert get_storage().exists(document.storage_key)
    page = client.get(f"/demandes/{request_id}/etapes/cadre-juridique")
    assert "délibération CA.pdf" in page.text and "Retirer" in page.text
    download = client.get(f"/demandes/{request_id}/documents/{document.id}")
    assert download.status_code == 200 and download.data == PDF
    assert download.headers["Content-Disposition"].startswith("attachment")
    download.close()
    # With the document, the legal step is valid without an URL.
    nature = {"cadre_juridique_nature": "Délibération", "cadre_juridique_url": ""}
    assert (
        post_step(client, request_id, "projet", {"intitule": "x", "description": "y"}).status_code
        == 302
    )
    assert post_step(client, request_id, "cadre-juridique", nature).status_code == 302


def test_a_document_can_be_removed(client, db, agent):
    request_id = start(client, FACULTATIVES)
    upload(client, request_id, [(io.BytesIO(PDF), "a.pdf")])
    document = reload(AuthorizationRequest, request_id).documents[0]
    key = document.storage_key
    response = upload(client, request_id, [], extra={"remove_document": str(document.id)})
    assert response.status_code == 302
    assert reload(AuthorizationRequest, request_id).documents == []
    assert not get_storage().exists(key)


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"\x89PNG\r\n\x1a\n" + b"0" * 100, "image.pdf", "n’est pas un PDF"),
        (b"<html><script>alert(1)</script></html>", "page.pdf", "n’est pas un PDF"),
        (b"PK\x03\x04" + b"0" * 100, "archive.pdf", "n’est pas un PDF"),
        (b"", "vide.pdf", "vide"),
        pytest.param(
            PDF[:-6] + b" " * (10 * 1024 * 1024 + 1 - len(PDF) + 6),
            "gros.pdf",
            "10",
            # werkzeug's test client spools this body to a temporary file it leaves open.
            marks=pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
        ),
    ],
    ids=["png", "html", "zip", "empty", "too-big"],
)
def test_hostile_uploads_are_rejected_and_the_draft_kept(client, db, agent, content, name, message):
    request_id = start(client, FACULTATIVES)
    response = upload(
        client,
        request_id,
        [(io.BytesIO(content), name)],
        extra={
            "cadre_juridique_nature": "Texte gardé",
            "cadre_juridique_url": "https://exemple.fr/a",
        },
    )
    assert response.status_code == 422
    assert message in response.text
    assert "Texte gardé" in response.text
    request = reload(AuthorizationRequest, request_id)
    assert request.documents == []
    assert request.data["cadre_juridique_nature"] == "Texte gardé"
    # The test client keeps the request (and its spooled upload) on the response.
    response.request.close()
    del response
    gc.collect()


def test_seventh_file_is_refused(client, db, agent):
    request_id = start(client, FACULTATIVES)
    files = [(io.BytesIO(PDF), f"d{i}.pdf") for i in range(7)]
    response = upload(client, request_id, files)
    assert response.status_code == 422
    assert "6" in response.text
    assert len(reload(AuthorizationRequest, request_id).documents) == 6


@pytest.mark.parametrize(
    "name", ["../../etc/passwd.pdf", "..\\..\\boot.pdf", "ｄéli\u202ebé.pdf", "\x00.pdf"]
)
def test_hostile_names_are_cleaned(client, db, agent, name):
    request_id = start(client, FACULTATIVES)
    upload(client, request_id, [(io.BytesIO(PDF), name)])
    [document] = reload(AuthorizationRequest, request_id).documents
    assert "/" not in document.filename and "\\" not in document.filename
    assert ".." not in document.filename.replace("..pdf", "")
    assert "\u202e" not in document.filename and "\x00" not in document.filename
    assert document.filename.endswith(".pdf")


# ---------------------------------------------------------------- permissions


def test_another_organisation_gets_404(client, db, login_as):
    owner = UserFactory()
    db.session.commit()
    request = AuthorizationRequest(
        definition_id="api_particulier",
        form_uid=FACULTATIVES.uid,
        catalog_version="t",
        data={},
        organization=owner.current_organization,
        applicant=owner,
    )
    request.documents.append(
        Document(
            field="cadre_juridique_document",
            filename="a.pdf",
            storage_key="0" * 32,
            size=1,
            sha256="0" * 64,
        )
    )
    _db.session.add(request)
    _db.session.commit()
    login_as()
    document_id = request.documents[0].id
    for url in (
        f"/demandes/{request.id}",
        f"/demandes/{request.id}/etapes/projet",
        f"/demandes/{request.id}/etapes/organisation",
        f"/demandes/{request.id}/documents/{document_id}",
    ):
        assert client.get(url).status_code == 404, url
    dashboard = client.get("/tableau-de-bord")
    for url in (
        f"/demandes/{request.id}/etapes/projet",
        f"/demandes/{request.id}/actions/archive",
        f"/demandes/{request.id}/messages",
    ):
        assert post_form(client, url, {"body": "x"}, page=dashboard).status_code == 404, url


def test_signed_out_users_are_sent_to_sign_in(client, db):
    response = client.get("/tableau-de-bord")
    assert response.status_code == 302 and "/connexion" in response.headers["Location"]


def test_post_without_csrf_is_refused(client, agent):
    request_id = start(client, FREE)
    response = client.post(f"/demandes/{request_id}/etapes/projet", data={"intitule": "x"})
    assert response.status_code == 400


# ---------------------------------------------------------------- request page and dashboard


def test_dashboard_groups_and_request_page(client, db, agent):
    draft = start(client, FREE)
    submitted = start(client, CATALOG.form("api-particulier-ccas-arpege"))
    fill_all(client, CATALOG.form("api-particulier-ccas-arpege"), submitted)
    submit(client, submitted, CATALOG.form("api-particulier-ccas-arpege"))
    page = client.get("/tableau-de-bord").text
    assert page.index("En cours d’instruction") < page.index("Brouillons")
    assert f"D{submitted}" in page and f"D{draft}" in page
    show = client.get(f"/demandes/{submitted}").text
    assert "En cours d’instruction" in show and "Historique" in show


def test_applicant_can_message_and_delete_a_draft(client, db, agent):
    request_id = start(client, FREE)
    page = client.get(f"/demandes/{request_id}")
    sent = post_form(client, f"/demandes/{request_id}/messages", {"body": "Bonjour"}, page=page)
    assert sent.status_code == 302
    assert reload(AuthorizationRequest, request_id).messages[0].body == "Bonjour"
    archived = post_form(client, f"/demandes/{request_id}/actions/archive", page=page)
    assert archived.status_code == 302
    assert reload(AuthorizationRequest, request_id).state == "archived"


def test_deleting_a_draft_is_confirmed_on_a_page_of_its_own(client, db, agent):
    """RGAA 11.12 (found by the audit): an action that loses what was typed is confirmed."""
    request_id = start(client, FREE)
    page = client.get(f"/demandes/{request_id}").text
    confirm_url = f"/demandes/{request_id}/actions/archive"
    assert f'href="{confirm_url}"' in page  # a link to the confirmation, not a deleting button
    assert reload(AuthorizationRequest, request_id).state == "draft"
    confirmation = client.get(confirm_url)
    assert confirmation.status_code == 200
    assert "<title>Supprimer le brouillon\u00a0? – Demande D" in confirmation.text
    assert "définitive" in confirmation.text
    archived = post_form(client, confirm_url, page=confirmation)
    assert archived.status_code == 302
    assert reload(AuthorizationRequest, request_id).state == "archived"
    # Not allowed any more (or never: an unknown action): no confirmation page either.
    assert client.get(confirm_url).status_code == 404
    assert client.get(f"/demandes/{request_id}/actions/reopen").status_code == 404


def test_dashboard_query_count_does_not_grow(client, db, agent):
    def count_queries(path):
        statements = []

        def record(*args):
            statements.append(args[2])

        engine = _db.engine
        event.listen(engine, "before_cursor_execute", record)
        try:
            assert client.get(path).status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", record)
        return len(statements)

    def add_requests(count):
        for _ in range(count):
            _db.session.add(
                AuthorizationRequest(
                    definition_id="api_particulier",
                    form_uid=FREE.uid,
                    catalog_version="t",
                    data={},
                    intitule="x",
                    organization=agent.current_organization,
                    applicant=agent,
                )
            )
        _db.session.commit()

    add_requests(2)
    few = count_queries("/tableau-de-bord?filtre=organisation")
    add_requests(30)
    many = count_queries("/tableau-de-bord?filtre=organisation")
    assert many == few


# ---------------------------------------------------------------- organisation step


def test_organisation_step_shows_the_registry_and_accepts_another_siret(client, db, agent):
    request_id = start(client, FREE)
    page = client.get(f"/demandes/{request_id}/etapes/organisation").text
    assert agent.current_organization.display_name in page
    assert "Établissement ouvert" in page and "Numéro SIRET" in page
    bad = post_step(client, request_id, "organisation", {"siret": "123"})
    assert bad.status_code == 422
    assert "14 chiffres" in bad.text and 'value="123"' in bad.text
    other = "26920023400012"  # another CCAS, valid checksum
    moved = post_step(client, request_id, "organisation", {"siret": other})
    assert moved.status_code == 302
    request = reload(AuthorizationRequest, request_id)
    assert request.organization.siret == other
    membership = agent.membership_for(request.organization_id)
    assert membership is not None and not membership.verified


def test_transfer_to_a_verified_member(client, db, agent):
    colleague = UserFactory(current_organization=agent.current_organization)
    outsider = UserFactory()
    db.session.commit()
    assert any(m.verified for m in colleague.memberships)
    request_id = start(client, FREE)
    page = client.get(f"/demandes/{request_id}")
    url = f"/demandes/{request_id}/transfert"
    draft = post_form(client, url, {"email": colleague.email}, page=page)
    assert (
        draft.status_code == 302
        and reload(AuthorizationRequest, request_id).applicant_id == agent.id
    )
    fill_all(client, FREE, request_id)
    submit(client, request_id, FREE)
    refused = post_form(client, url, {"email": outsider.email}, page=page)
    assert refused.status_code == 302
    assert reload(AuthorizationRequest, request_id).applicant_id == agent.id
    done = post_form(client, url, {"email": colleague.email}, page=page)
    assert done.status_code == 302
    request = reload(AuthorizationRequest, request_id)
    assert request.applicant_id == colleague.id
    assert any(event.name == "transfer" for event in request.events)


def test_reopen_then_cancel_keeps_the_habilitation(client, db, agent):
    from datapass.models import Authorization
    from datapass.models.base import utcnow

    request_id = start(client, FREE)
    fill_all(client, FREE, request_id)
    submit(client, request_id, FREE)
    request = reload(AuthorizationRequest, request_id)
    request.state = "validated"
    request.last_validated_at = utcnow()
    request.authorizations.append(
        Authorization(
            definition_id=request.definition_id,
            form_uid=request.form_uid,
            organization=request.organization,
            applicant=agent,
            data=dict(request.data),
        )
    )
    db.session.commit()
    page = client.get(f"/demandes/{request_id}")
    assert "Mettre à jour l’habilitation" in page.text
    reopened = post_form(client, f"/demandes/{request_id}/actions/reopen", page=page)
    assert reopened.status_code == 302 and "/etapes/organisation" in reopened.headers["Location"]
    request = reload(AuthorizationRequest, request_id)
    assert request.state == "draft" and request.is_reopening
    assert request.authorizations[0].state == "active"  # still valid meanwhile
    post_step(client, request_id, "projet", {"intitule": "Nouveau nom"}, action="save")
    cancel = post_form(client, f"/demandes/{request_id}/actions/cancel_reopening", page=page)
    assert cancel.status_code == 302
    request = reload(AuthorizationRequest, request_id)
    assert request.state == "validated"
    assert request.data["intitule"] == "Aides sociales facultatives"


def test_dashboard_shows_unread_instructor_messages(app, client, db, login_as):
    from datapass.models.message import INSTRUCTOR_SIDE
    from datapass.services import messaging
    from tests.support.authorization_requests import submitted_request

    applicant = login_as()
    with app.test_request_context():
        request = submitted_request(applicant)
        instructor = UserFactory(roles=["api_particulier:instructor"])
        messaging.post_message(request, instructor, "Une précision ?", side=INSTRUCTOR_SIDE)
    assert "1 nouveau message" in client.get("/tableau-de-bord").text
    client.get(f"/demandes/{request.id}")  # reading marks it read
    assert "nouveau message" not in client.get("/tableau-de-bord").text
