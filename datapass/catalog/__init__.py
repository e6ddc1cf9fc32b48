"""The démarche catalogue: definitions, scopes, editors, legal bases and forms, from YAML.

The shipped catalogue lives in ``datapass/catalog/data``; ``CATALOG_DIR`` points to another
copy. It is loaded and checked once when the app starts: an invalid catalogue refuses to
start with every problem listed (file and key), as ``flask catalog check`` does.
"""

from __future__ import annotations

from pathlib import Path

from flask import current_app

from datapass.catalog.loader import CatalogError, CatalogIssue, load_catalog
from datapass.catalog.model import Catalog, Definition, Editor, Form, Scope, ScopeGroup

DEFAULT_DIR = Path(__file__).resolve().parent / "data"

__all__ = [
    "DEFAULT_DIR",
    "Catalog",
    "CatalogError",
    "CatalogIssue",
    "Definition",
    "Editor",
    "Form",
    "Scope",
    "ScopeGroup",
    "catalog_dir",
    "get_catalog",
    "init_app",
    "load_catalog",
]


def catalog_dir(config) -> Path:
    return Path(config.get("CATALOG_DIR") or DEFAULT_DIR)


def init_app(app) -> None:
    """Load the catalogue into ``app.extensions``; raise ``CatalogError`` if it is invalid."""
    app.extensions["catalog"] = load_catalog(catalog_dir(app.config))


def get_catalog() -> Catalog:
    return current_app.extensions["catalog"]
