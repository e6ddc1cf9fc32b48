"""Public pages, the DSFR layout, the error pages, the security headers, refusals."""

from __future__ import annotations

import re
from html import unescape

import pytest
from flask import abort, render_template
from markupsafe import escape
from werkzeug.exceptions import HTTPException

from datapass import catalog, create_app
from datapass.services import accessibility
from datapass.views import errors

PUBLIC_PAGES = {
    "/": "Accueil",
    "/accessibilite": "Déclaration d’accessibilité",
    "/mentions-legales": "Mentions légales",
    "/donnees-personnelles": "Données personnelles",
    "/plan-du-site": "Plan du site",
    "/stats": "Statistiques publiques",
    "/habilitations": "Registre des habilitations",
    "/faq": "Questions fréquentes",
}

DEMARCHES = {
    "api-particulier": None,
    "api-particulier-aides-sociales-ccas": None,
    "api-particulier-aides-sociales-ccas-dont-facultatives": None,
    "api-particulier-ccas-arche-mc2": "Arche MC2",
    "api-particulier-ccas-arpege": "Arpège",
    "api-particulier-pass-famille": None,
}


def text_of(html: str) -> str:
    """The page's text, tags removed and entities decoded (non-breaking spaces kept)."""
    return re.sub(r"[ \t\r\n]+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def assert_dsfr_layout(html: str) -> None:
    assert re.search(r'<html lang="fr"', html)
    assert len(re.findall(r"<title>", html)) == 1
    assert 'href="/static/dsfr/dsfr.min.css"' in html
    assert 'src="/static/dsfr/dsfr.module.min.js"' in html
    for target in ("contenu", "header-navigation", "footer"):
        assert f'href="#{target}"' in html
        assert len(re.findall(rf'id="{target}"', html)) == 1
    assert '<main id="contenu"' in html
    state = accessibility.load_audit().state  # the self-assessment's (datapass/data/rgaa.yml)
    assert f"Accessibilité\u00a0: {state}" in text_of(html)
    # No inline script or style: the CSP will forbid them.
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)
    assert not re.search(r"<style|\sstyle=|\sonclick=", html)


@pytest.mark.parametrize(("path", "title"), PUBLIC_PAGES.items())
def test_public_page_uses_the_dsfr_layout(client, path, title):
    response = client.get(path)
    assert response.status_code == 200
    html = response.text
    assert_dsfr_layout(html)
    assert f"<title>{title} – DataPass</title>" in html
    assert len(re.findall(r"<h1[ >]", html)) == 1


def test_footer_links_to_the_mandatory_pages(client):
    html = client.get("/").text
    for path in ("/plan-du-site", "/accessibilite", "/mentions-legales", "/donnees-personnelles"):
        assert f'href="{path}"' in html
    assert "licence etalab-2.0" in html


def test_home_lists_every_public_demarche_with_its_editor(client):
    forms = {form.uid: form for form in catalog.get_catalog().public_forms()}
    assert set(DEMARCHES) <= set(forms)
    html = client.get("/").text
    for uid, editor in DEMARCHES.items():
        form = forms[uid]
        assert str(escape(form.name)) in html
        assert f'href="/formulaires/{uid}/demande/nouveau"' in html
        if editor:
            assert form.editor.name == editor
            assert f"Éditeur\u00a0: {editor}" in text_of(html)


def test_demonstration_notice_outside_production(app, client):
    assert "Environnement de démonstration" in client.get("/accessibilite").text
    with app.test_request_context("/"):
        html = render_template("public/legal_notice.html", app_environment="production")
    assert "Environnement de démonstration" not in html


def test_flash_messages_are_dsfr_alerts(client):
    with client.session_transaction() as session:
        session["_flashes"] = [("success", "Demande envoyée."), ("error", "Échec.")]
    html = client.get("/mentions-legales").text
    assert re.search(
        r'class="fr-alert fr-alert--success fr-alert--sm[^"]*">\s*<p>Demande envoyée', html
    )
    assert re.search(r'class="fr-alert fr-alert--error fr-alert--sm[^"]*">\s*<p>Échec', html)


def test_anonymous_header_offers_to_sign_in(app, client):
    html = client.get("/").text
    assert ("Se connecter" in html) == ("auth.login" in app.view_functions)
    assert "Mon compte" not in html


def test_signed_in_header_shows_the_user(app, client, login_as):
    if "auth.profile" not in app.view_functions:
        pytest.skip("the account pages are not there")
    user = login_as()
    html = client.get("/").text
    assert "Mon compte" in html
    assert str(escape(user.full_name)) in html
    assert "Se connecter" not in html


def test_unknown_page_is_the_dsfr_404(client):
    response = client.get("/cette-page-n-existe-pas")
    assert response.status_code == 404
    html = response.text
    assert_dsfr_layout(html)
    assert "<title>Page non trouvée – DataPass</title>" in html
    assert "Erreur 404" in html
    assert "La page que vous cherchez est introuvable" in html


def test_unknown_api_path_answers_json(client):
    response = client.get("/api/unknown")
    assert response.status_code == 404
    assert response.is_json
    error = response.get_json()["errors"][0]
    assert error["status"] == "404"
    assert error["title"] == "Not Found"
    assert error["detail"]


def test_wrong_method_keeps_the_allow_header(client):
    response = client.post("/accessibilite")
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]
    assert "Action non autorisée" in response.text


@pytest.mark.parametrize(
    ("code", "title"),
    [
        (400, "Requête incorrecte"),
        (403, "Accès refusé"),
        (404, "Page non trouvée"),
        (405, "Action non autorisée"),
        (413, "Fichier trop volumineux"),
        (429, "Trop de requêtes"),
        (500, "Erreur inattendue"),
    ],
)
def test_error_pages(app, db, code, title):
    with app.test_request_context("/une-page"):
        try:
            abort(code)
        except HTTPException as error:
            response = app.make_response(errors.handle_http_error(error))
    assert response.status_code == code
    html = response.get_data(as_text=True)
    assert f"<title>{title} – DataPass</title>" in html
    assert f"Erreur {code}" in html
    assert_dsfr_layout(html)


def test_csrf_failure_explains_the_expired_form(app, client):
    rule = next(
        (
            r
            for r in app.url_map.iter_rules()
            if "POST" in r.methods and not r.arguments and not r.rule.startswith("/api")
        ),
        None,
    )
    if rule is None:
        pytest.skip("no form endpoint to post to")
    response = client.post(rule.rule, data={})
    assert response.status_code == 400
    assert "Le formulaire a expiré" in response.text
    assert "<title>Requête incorrecte – DataPass</title>" in response.text


# ---------------------------------------------------------------- every response


def test_security_headers(client):
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    # Sign-in and sign-out forms end at the identity provider.
    assert "form-action 'self' http://127.0.0.1:" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_production_adds_hsts(tmp_path):
    app = create_app(
        environ={
            "DATAPASS_ENV": "production",
            "SECRET_KEY": "s" * 40,
            "DATABASE_URL": "postgresql://u@127.0.0.1:1/none",
            "OIDC_DISCOVERY_URL": "https://idp.example.gouv.fr/.well-known/openid-configuration",
            "MAIL_SERVER": "smtp.example.gouv.fr",
            "CLAMD_ADDRESS": "tcp://clamav.example.gouv.fr:3310",
            "INSTANCE_DIR": str(tmp_path),
        }
    )
    assert app.config["SESSION_COOKIE_SECURE"] is True
    response = app.test_client().get("/accessibilite", base_url="https://datapass.example.gouv.fr")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_huge_ids_are_not_found(client, db, login_as):
    login_as()
    assert client.get("/demandes/99999999999999999999").status_code == 404


# ---------------------------------------------------------------- refusals (UserError)


def _app_with_refusing_routes(tmp_path):
    """A fresh app (routes cannot be added to the shared one) whose views raise UserError."""
    from datapass.errors import UserError

    app = create_app(
        {"TESTING": True, "WTF_CSRF_ENABLED": False},
        environ={
            "DATAPASS_ENV": "test",
            "INSTANCE_DIR": str(tmp_path),
            "DATABASE_URL": f"sqlite:///{tmp_path / 'refusals.sqlite3'}",
        },
    )

    @app.post("/essai/refus")
    def refuse():
        raise UserError("Cette action n’est pas possible.")

    @app.post("/api/essai/refus")
    def refuse_api():
        raise UserError("Cette action n’est pas possible.")

    return app


def test_an_uncaught_user_error_is_flashed_and_sends_back(tmp_path):
    client = _app_with_refusing_routes(tmp_path).test_client()
    response = client.post("/essai/refus", headers={"Referer": "http://localhost/demandes/3"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/demandes/3"
    with client.session_transaction() as session:
        assert session["_flashes"] == [("error", "Cette action n’est pas possible.")]
    # A foreign referrer is never followed.
    response = client.post("/essai/refus", headers={"Referer": "https://evil.example/x"})
    assert response.headers["Location"] == "/"


def test_an_uncaught_user_error_under_api_is_a_json_422(tmp_path):
    client = _app_with_refusing_routes(tmp_path).test_client()
    response = client.post("/api/essai/refus")
    assert response.status_code == 422
    assert response.json["errors"][0]["detail"] == "Cette action n’est pas possible."


def test_the_sitemap_leads_everywhere_one_may_go(client, db, login_as):
    """RGAA 12.1 (found by the audit): a second way through the site beside the menu."""
    visitor = client.get("/plan-du-site").text
    assert 'href="/connexion"' in visitor and "/tableau-de-bord" not in visitor
    login_as(roles=["api_particulier:instructor"])
    html = client.get("/plan-du-site").text
    for path in (
        "/",
        "/tableau-de-bord",
        "/instruction/tableau-de-bord/demandes",
        "/accessibilite",
    ):
        assert f'href="{path}"' in html
    for link in re.findall(r'href="(/[^"#]*)"', html.split("<main")[1].split("</main>")[0]):
        assert client.get(link).status_code == 200, link
