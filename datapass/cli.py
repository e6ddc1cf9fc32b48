"""Flask commands: ``flask catalog check``, ``flask dev seed``."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

dev_cli = AppGroup("dev", help="Outils de développement (jamais en production).")


@dev_cli.command("seed")
def seed_command() -> None:
    """Load the idempotent demo data (organisations, applicant, instructor, admin, editor)."""
    from datapass.services.demo import seed_demo_data

    if current_app.config["DATAPASS_ENV"] == "production":
        raise click.ClickException("Demo data are never loaded in production.")
    created = seed_demo_data()
    click.echo(
        f"Demo data ready ({created['organizations']} organisation(s) and "
        f"{created['users']} user(s) created, the others updated)."
    )


def register(app) -> None:
    from datapass.catalog.cli import catalog_cli

    app.cli.add_command(catalog_cli)
    app.cli.add_command(dev_cli)
