"""The application factory."""

from __future__ import annotations

from datapass import create_app


def test_factory_registers_blueprints_commands_and_extensions(app):
    assert {"public", "auth"} <= set(app.blueprints)
    assert {"catalog", "dev", "users", "db"} <= set(app.cli.commands)
    assert {"sqlalchemy", "migrate", "csrf", "authlib.integrations.flask_client"} <= set(
        app.extensions
    )
    assert app.extensions["catalog"] is not None


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
            "INSTANCE_DIR": str(tmp_path),
        }
    )
    assert app.config["SESSION_COOKIE_SECURE"] is True
    response = app.test_client().get("/accessibilite", base_url="https://datapass.example.gouv.fr")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_huge_ids_are_not_found(client, db, login_as):
    login_as()
    assert client.get("/demandes/99999999999999999999").status_code == 404
