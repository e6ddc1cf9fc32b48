"""The editors' space through HTTP: who gets in, the link builder, the lists, and what an
editor's staff never reaches (instruction, other requests, the API)."""

from __future__ import annotations

import html
import io
import re
from urllib.parse import urlsplit

import pytest
from werkzeug.datastructures import FileStorage

from datapass.catalog import get_catalog
from datapass.extensions import db as _db
from datapass.models import AuthorizationRequest, Document, User
from datapass.services import decisions, documents
from tests.api.conftest import bearer_for
from tests.factories import UserFactory
from tests.support.authorization_requests import submitted_request
from tests.support.http import post_form, reload
from tests.support.queries import page_statements
from tests.support.wizard import start

ARCHE = "/editeurs/arche_mc2"
MILLESIME = "api-particulier-ccas-arche-mc2"
BUILDER = f"{ARCHE}/demarches/{MILLESIME}/lien"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
REFUSED = "Ce champ ne peut pas être pré-rempli par un lien\u00a0: "


@pytest.fixture
def staff(login_as):
    return login_as(roles=["editor:arche_mc2"])


def approved(form_uid: str = MILLESIME, **answers) -> AuthorizationRequest:
    request = submitted_request(form_uid=form_uid, **answers)
    instructor = UserFactory(roles=["api_particulier:instructor"])
    decisions.decide(request, "approve", instructor, version=request.version)
    return request


def built_link(page: str) -> str:
    match = re.search(r'<textarea[^>]*id="lien-construit"[^>]*>([^<]*)</textarea>', page)
    assert match, "no built link in the page"
    return html.unescape(match.group(1))


# ---------------------------------------------------------------- who gets in


def test_the_space_shows_its_demarches_with_their_public_link(client, staff):
    page = client.get(ARCHE)
    assert page.status_code == 200
    text = page.text
    assert text.count("<title>") == 1 and "<title>Espace éditeur – Arche MC2 – DataPass" in text
    assert "Millésime Action Sociale" in text and "Sonate Opus" not in text
    assert f'value="http://localhost/formulaires/{MILLESIME}/demande/nouveau"' in text
    assert f'href="{BUILDER}"' in text
    assert '<li class="datapass-js-only" hidden><button' in text  # shown by its script
    assert "js/copy-link.js" in text
    # The navigation's entry, current.
    assert f'href="{ARCHE}" aria-current="page">Espace éditeur</a>' in text


@pytest.mark.parametrize(
    "roles",
    [["editor:arpege"], [], ["api_particulier:developer"], ["api_particulier:manager"]],
)
def test_anybody_else_gets_a_404(client, login_as, roles):
    login_as(roles=roles)
    assert client.get(ARCHE).status_code == 404
    assert client.get(BUILDER).status_code == 404
    assert f'href="{ARCHE}"' not in client.get("/tableau-de-bord").text


def test_admins_see_every_space_but_unknown_editors_are_404(client, login_as):
    login_as(roles=["admin"])
    assert client.get(ARCHE).status_code == 200
    assert client.get("/editeurs/arpege").status_code == 200
    assert client.get("/editeurs/inconnu").status_code == 404


def test_signed_out_is_sent_to_sign_in(client, db):
    response = client.get(ARCHE)
    assert response.status_code == 302 and "/connexion" in response.headers["Location"]


def test_one_navigation_entry_per_editor(client, login_as):
    login_as(roles=["editor:arche_mc2", "editor:arpege"])
    page = client.get("/tableau-de-bord").text
    assert ">Espace éditeur – Arche MC2</a>" in page
    assert ">Espace éditeur – Arpège</a>" in page


def test_another_editors_or_a_generic_demarche_has_no_builder(client, staff):
    assert client.get(f"{ARCHE}/demarches/api-particulier-ccas-arpege/lien").status_code == 404
    assert client.get(f"{ARCHE}/demarches/api-particulier/lien").status_code == 404


# ---------------------------------------------------------------- the link builder


def test_the_builder_refuses_a_contact_a_locked_field_and_unknown_parameters(client, staff):
    response = client.get(
        BUILDER,
        query_string=[
            ("intitule", "Aides facultatives"),
            ("contact_technique_email", "moi@ccas.example.fr"),
            ("scopes[]", "cnaf_adresse"),
            ("modalities[]", "params"),
            ("cadre_juridique_document", "x.pdf"),
        ],
    )
    assert response.status_code == 200
    text = response.text
    assert "<title>Erreur : Lien pré-rempli – Millésime Action Sociale" in text
    assert REFUSED + "un lien ne nomme pas les personnes impliquées (contacts)." in text
    # scopes and modalities, in the error summary and next to their field
    assert text.count(REFUSED + "il est fixé par la démarche.") == 4
    assert REFUSED + "un document ne se transmet pas par un lien." in text
    assert 'aria-invalid="true"' in text and 'id="error-summary"' in text
    # Each refused parameter is shown as a field (disabled: never sent again) with its message.
    assert "Paramètre «\u00a0contact_technique_email\u00a0»" in text
    link = built_link(text)
    assert (
        link
        == f"http://localhost/formulaires/{MILLESIME}/demande/nouveau?intitule=Aides%20facultatives"
    )


def test_the_builder_without_parameters_offers_the_allowed_fields(client, staff):
    text = client.get(BUILDER).text
    assert 'name="intitule"' in text and 'name="cadre_juridique_nature"' in text
    assert "contact_technique" not in text and 'name="scopes"' not in text
    assert "Erreur" not in text.split("</title>")[0]
    assert 'id="lien-construit"' not in text


def test_a_built_link_prefills_a_draft_through_the_real_pages(client, login_as):
    login_as(roles=["editor:arche_mc2"])
    page = client.get(
        BUILDER,
        query_string={
            "intitule": "Aides facultatives du CCAS",
            "description": "Instruire les aides sans pièces justificatives.",
            "volumetrie_approximative": "40 par semaine",
        },
    ).text
    link = urlsplit(built_link(page))
    assert link.path == f"/formulaires/{MILLESIME}/demande/nouveau"
    # A CCAS agent opens it, signs in, starts, and finds the answers pre-filled.
    login_as()
    form = get_catalog().form(MILLESIME)
    request_id = start(client, form, f"?{link.query}")
    step = client.get(f"/demandes/{request_id}/etapes/projet").text
    assert 'value="Aides facultatives du CCAS"' in step
    assert "Instruire les aides sans pièces justificatives." in step
    assert 'value="40 par semaine"' in step
    assert 'id="prefilled-notice"' in step
    data = reload(AuthorizationRequest, request_id).data
    assert data["intitule"] == "Aides facultatives du CCAS"
    assert data["contact_technique_email"] == form.editor.contact.email


# ---------------------------------------------------------------- lists


def _count_statements(client, path: str) -> int:
    return len(_statements(client, path))


_statements = page_statements


def test_the_space_lists_customers_and_the_funnel_in_constant_queries(app, client, login_as):
    with app.test_request_context():
        millesime = approved()
        approved("api-particulier")  # a generic form: never shown
        submitted_request(form_uid=MILLESIME)
    login_as(roles=["editor:arche_mc2"])
    text = client.get(ARCHE).text
    habilitation = millesime.authorizations[0]
    assert f'href="/habilitations/{habilitation.id}">H{habilitation.id}</a>' in text
    assert millesime.organization.siret in text
    assert f"dpt_…{habilitation.tokens[0].last_chars}" in text
    assert text.count("<tr>") - 2 == 2  # one funnel row, one customer (headers aside)
    # No request content: neither the project's name nor the applicant.
    assert millesime.intitule not in text and millesime.applicant.email not in text
    few = _statements(client, ARCHE)
    with app.test_request_context():
        for _ in range(6):
            approved()
            submitted_request(form_uid=MILLESIME)
    many = _statements(client, ARCHE)
    assert len(many) == len(few), "\n\n".join(many)
    assert _count_statements(client, f"{ARCHE}?apres={habilitation.id + 100}") == len(few)


# ---------------------------------------------------------------- never elsewhere


def test_editor_staff_reach_no_request_in_pages(app, client, login_as):
    with app.test_request_context():
        millesime = approved()
        generic = submitted_request(form_uid="api-particulier")
        pdf = FileStorage(io.BytesIO(PDF), "deliberation.pdf")
        _, problems = documents.attach_documents(
            millesime, "cadre_juridique_document", [pdf], user=millesime.applicant
        )
        assert not problems
        _db.session.commit()
    [document] = _db.session.scalars(
        _db.select(Document).where(Document.authorization_request_id == millesime.id)
    ).all()
    login_as(roles=["editor:arche_mc2"])
    for request in (millesime, generic):
        assert client.get(f"/demandes/{request.id}").status_code == 404
        assert client.get(f"/instruction/demandes/{request.id}").status_code == 404
        assert client.get(f"/demandes/{request.id}/etapes/projet").status_code == 404
    assert client.get(f"/demandes/{millesime.id}/documents/{document.id}").status_code == 404
    assert client.get("/instruction/tableau-de-bord/demandes").status_code == 403
    assert client.get("/instruction/tableau-de-bord/demandes/export.csv").status_code == 403
    assert client.get("/developpeurs/webhooks").status_code in (403, 404)


def test_editor_staff_reach_no_request_in_the_api(app, client, db):
    with app.test_request_context():
        millesime = approved()
    headers, _ = bearer_for(client, roles=("editor:arche_mc2",))
    assert client.get(f"/api/v1/demandes/D{millesime.id}", headers=headers).status_code == 404
    assert client.get("/api/v1/demandes", headers=headers).get_json() == []
    assert client.get("/api/v1/habilitations", headers=headers).get_json() == []
    habilitation = millesime.authorizations[0]
    assert (
        client.get(f"/api/v1/habilitations/H{habilitation.id}", headers=headers).status_code == 404
    )
    patched = client.patch(
        f"/api/v1/demandes/D{millesime.id}",
        json={"demande": {"data": {"intitule": "x"}}},
        headers=headers,
    )
    assert patched.status_code == 404


# ---------------------------------------------------------------- the admins' page


def test_admins_grant_and_revoke_an_editors_staff(client, login_as):
    login_as(roles=["admin"])
    page = client.get("/admin/editeurs")
    assert page.status_code == 200 and "Équipes des éditeurs" in page.text
    granted = post_form(
        client, "/admin/editeurs", {"email": "Chef@Arche.example.fr", "editor": "arche_mc2"}
    )
    assert granted.status_code == 302
    user = _db.session.scalar(_db.select(User).where(User.email == "chef@arche.example.fr"))
    assert user.roles == {"editor:arche_mc2"}
    assert "chef@arche.example.fr" in client.get("/admin/editeurs").text
    refused = post_form(client, "/admin/editeurs", {"email": "x@y.fr", "editor": "inconnu"})
    assert refused.status_code == 422 and "Choisissez un éditeur dans la liste." in refused.text
    revoked = post_form(
        client,
        "/admin/editeurs/retirer",
        {"email": "chef@arche.example.fr", "editor": "arche_mc2"},
        page="/admin/editeurs",
    )
    assert revoked.status_code == 302
    assert reload(user).roles == set()


def test_only_admins_manage_editors_staff(client, login_as):
    login_as(roles=["editor:arche_mc2", "api_particulier:manager"])
    assert client.get("/admin/editeurs").status_code == 403


def test_a_static_file_does_not_write_the_session_back(client, staff):
    """Else it could overwrite an editor's pre-fill stored by a page loading meanwhile."""
    client.get("/tableau-de-bord")  # a session as a real sign-in leaves it (permanent)
    response = client.get("/static/css/datapass.css")
    response.close()
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
    prefilled = client.get(f"/formulaires/{MILLESIME}/demande/nouveau?intitule=Aides")
    assert "Set-Cookie" in prefilled.headers  # the pre-fill waits in the session


def test_editor_staff_reveal_their_customers_token_once(app, client, login_as):
    with app.test_request_context():
        millesime = approved()
        generic = approved("api-particulier")
        sonate_person = approved("api-particulier-ccas-arpege")  # a person typed as contact
    habilitation = millesime.authorizations[0]
    staff = login_as(roles=["editor:arche_mc2"])
    page = client.get(f"/habilitations/{habilitation.id}")
    assert page.status_code == 200 and "Afficher le jeton" in page.text
    assert f'href="{ARCHE}#clients"' in page.text  # back to the space, not to the request
    assert f'href="/demandes/{millesime.id}"' not in page.text
    shown = post_form(client, f"/habilitations/{habilitation.id}/jeton/afficher", page=page)
    assert 'id="token-value"' in shown.text
    token = reload(habilitation.tokens[0])
    assert token.revealed_by_id == staff.id and token.sealed_value is None
    assert "Afficher le jeton" not in client.get(f"/habilitations/{habilitation.id}").text
    for other in (generic, sonate_person):
        assert client.get(f"/habilitations/{other.authorizations[0].id}").status_code == 404
    login_as(roles=["editor:arpege"])
    assert client.get(f"/habilitations/{habilitation.id}").status_code == 404


def test_the_space_reveals_a_customers_token_in_one_click_and_only_once(app, client, login_as):
    with app.test_request_context():
        millesime = approved()
    habilitation = millesime.authorizations[0]
    login_as(roles=["editor:arche_mc2"])
    space = client.get(ARCHE)
    assert "Afficher le jeton de l’habilitation" in space.text
    shown = post_form(client, f"/habilitations/{habilitation.id}/jeton/afficher", page=space)
    assert 'id="token-value"' in shown.text
    again = client.get(ARCHE)
    assert "Afficher le jeton de l’habilitation" not in again.text
    assert "affiché le" in again.text
