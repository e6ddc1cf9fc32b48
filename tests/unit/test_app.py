"""The application factory."""

from __future__ import annotations


def test_factory_registers_blueprints_commands_and_extensions(app):
    assert {"public", "auth"} <= set(app.blueprints)
    assert {"catalog", "dev", "users", "db"} <= set(app.cli.commands)
    assert {"sqlalchemy", "migrate", "csrf", "authlib.integrations.flask_client"} <= set(
        app.extensions
    )
    assert app.extensions["catalog"] is not None


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


def test_a_failed_statement_never_carries_its_values_into_logs(app, db):
    import pytest
    from sqlalchemy import text
    from sqlalchemy.exc import OperationalError, ProgrammingError

    with pytest.raises((OperationalError, ProgrammingError)) as failure:
        db.session.execute(
            text("SELECT * FROM no_such_table WHERE email = :email"),
            {"email": "agent@ccas.example.fr"},
        )
    assert "no_such_table" in str(failure.value)
    assert "agent@ccas.example.fr" not in str(failure.value)
