"""A catalogue with a second definition, for the rules that depend on a request's definition."""

from __future__ import annotations

import dataclasses

SECOND_DEFINITION = "api_entreprise"


def add_definition(app, monkeypatch, definition_id: str = SECOND_DEFINITION) -> str:
    """Give the app's catalogue, for the test, a copy of API Particulier's definition named
    ``definition_id`` (no form of its own)."""
    catalog = app.extensions["catalog"]
    copy = dataclasses.replace(
        catalog.definitions["api_particulier"], id=definition_id, name="API Entreprise"
    )
    definitions = {**catalog.definitions, definition_id: copy}
    monkeypatch.setitem(
        app.extensions, "catalog", dataclasses.replace(catalog, definitions=definitions)
    )
    return definition_id
