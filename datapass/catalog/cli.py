"""``flask catalog check [--dir DIR]``: validate a catalogue and list every problem."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from datapass.catalog import catalog_dir
from datapass.catalog.loader import CatalogError, load_catalog

catalog_cli = AppGroup("catalog", help="Catalogue des démarches.")


@catalog_cli.command("check")
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    help="Catalogue directory (default: CATALOG_DIR or the shipped catalogue).",
)
def check_command(directory: Path | None) -> None:
    """Check the catalogue's YAML files; exit 1 listing each problem as file: key: message."""
    directory = directory or catalog_dir(current_app.config)
    try:
        catalog = load_catalog(directory)
    except CatalogError as error:
        for issue in error.issues:
            click.echo(str(issue), err=True)
        raise click.ClickException(f"{len(error.issues)} problem(s) in {directory}") from error
    scopes = sum(len(d.scopes) for d in catalog.definitions.values())
    click.echo(
        f"Catalogue {catalog.version} OK: {len(catalog.definitions)} definition(s), "
        f"{scopes} scope(s), {len(catalog.forms)} form(s), {len(catalog.editors)} editor(s)."
    )
