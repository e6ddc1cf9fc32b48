"""The application factory (the responses it gives: tests/views/test_public_pages.py)."""

from __future__ import annotations


def test_factory_registers_blueprints_commands_and_extensions(app):
    assert {"public", "auth"} <= set(app.blueprints)
    assert {"catalog", "dev", "users", "db"} <= set(app.cli.commands)
    assert {"sqlalchemy", "migrate", "csrf", "authlib.integrations.flask_client"} <= set(
        app.extensions
    )
    assert app.extensions["catalog"] is not None
