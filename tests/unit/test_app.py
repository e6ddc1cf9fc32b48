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


def production_app(tmp_path):
    return create_app(
        environ={
            "DATAPASS_ENV": "production",
            "SECRET_KEY": "s" * 40,
            "DATABASE_URL": "postgresql://u@127.0.0.1:1/none",
            "OIDC_DISCOVERY_URL": "https://idp.example.gouv.fr/.well-known/openid-configuration",
            "MAIL_SERVER": "smtp.example.gouv.fr",
            "INSTANCE_DIR": str(tmp_path),
        }
    )


def test_production_adds_hsts(tmp_path):
    app = production_app(tmp_path)
    assert app.config["SESSION_COOKIE_SECURE"] is True
    response = app.test_client().get("/accessibilite", base_url="https://datapass.example.gouv.fr")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_huge_ids_are_not_found(client, db, login_as):
    login_as()
    assert client.get("/demandes/99999999999999999999").status_code == 404


def test_the_dev_blueprint_is_absent_in_production(tmp_path):
    app = production_app(tmp_path)
    assert "dev" not in app.blueprints
    assert not any(rule.rule.startswith("/dev/") for rule in app.url_map.iter_rules())
    client = app.test_client()
    base_url = "https://datapass.example.gouv.fr"
    assert client.get("/dev/courriels", base_url=base_url).status_code == 404
    assert client.get("/dev/courriels/x", base_url=base_url).status_code == 404
    assert client.post("/dev/webhooks/recepteur", base_url=base_url).status_code == 404


def test_the_dev_blueprint_is_there_outside_production(app):
    assert "dev" in app.blueprints
    assert {"/dev/courriels", "/dev/courriels/<name>", "/dev/webhooks/recepteur"} <= {
        rule.rule for rule in app.url_map.iter_rules()
    }


def test_the_dev_mailbox_is_hidden_when_emails_go_out_by_smtp(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_SERVER", "smtp.example.gouv.fr")
    assert client.get("/dev/courriels").status_code == 404
    assert client.get("/dev/courriels/x").status_code == 404
    monkeypatch.setitem(app.config, "MAIL_SERVER", "")
    assert client.get("/dev/courriels").status_code == 200


def test_machine_endpoints_are_one_api_blueprint(app):
    endpoints = {rule.rule: rule.endpoint for rule in app.url_map.iter_rules()}
    for path in (
        "/api/v1/demandes",
        "/api/oauth/token",
        "/api/oauth/introspect",
        "/api/introspect",
        "/api/openapi.yaml",
    ):
        assert endpoints[path].startswith("api."), path
    assert all(
        endpoint.startswith("developers.")
        for path, endpoint in endpoints.items()
        if path.startswith("/developpeurs/")
    )


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
