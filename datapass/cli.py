"""Flask commands: ``flask catalog check``, ``flask dev seed``, ``flask users grant-role``."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

dev_cli = AppGroup("dev", help="Outils de développement (jamais en production).")


@dev_cli.command("seed")
def seed_command() -> None:
    """Load the idempotent demo data (organisations, applicant, staff, editor, provider)."""
    from datapass.services.demo import seed_demo_data

    if current_app.config["DATAPASS_ENV"] == "production":
        raise click.ClickException("Demo data are never loaded in production.")
    created = seed_demo_data()
    click.echo(
        f"Demo data ready ({created['organizations']} organisation(s) and "
        f"{created['users']} user(s) created, the others updated; "
        f"{created['requests']} demo request(s) submitted)."
    )


users_cli = AppGroup("users", help="Rôles des utilisateurs.")


def _definition_ids() -> set[str]:
    from datapass.catalog import get_catalog

    return set(get_catalog().definitions)


@users_cli.command("grant-role")
@click.argument("email")
@click.argument("role")
def grant_role_command(email: str, role: str) -> None:
    """Grant ROLE to EMAIL: admin, <definition>:reporter|instructor|manager|developer, or
    editor:<editor> (an editor's staff, e.g. editor:arche_mc2).

    An email that never signed in gets a pending account taken over at its first sign-in.
    """
    from datapass.catalog import get_catalog
    from datapass.services.users import RoleError, grant_role, parse_role

    try:
        role = parse_role(role, _definition_ids(), set(get_catalog().editors))
    except RoleError as error:
        raise click.BadParameter(str(error), param_hint="ROLE") from error
    user, added = grant_role(email, role)
    pending = " (pending: will apply at first sign-in)" if user.sub is None else ""
    click.echo(f"{role} {'granted to' if added else 'already held by'} {user.email}{pending}.")


@users_cli.command("revoke-role")
@click.argument("email")
@click.argument("role")
def revoke_role_command(email: str, role: str) -> None:
    """Revoke ROLE from EMAIL."""
    from datapass.services.users import revoke_role

    if not revoke_role(email, role):
        raise click.ClickException(f"{email} does not hold {role}.")
    click.echo(f"{role} revoked from {email.strip().lower()}.")


jobs_cli = AppGroup("jobs", help="Tâches en attente (courriels, webhooks) et tâches périodiques.")


@jobs_cli.command("work")
@click.option("--once", is_flag=True, help="Run the due jobs once, then stop.")
@click.option("--interval", default=2.0, show_default=True, help="Seconds between polls.")
@click.option(
    "--periodic-interval",
    default=60.0,
    show_default=True,
    help="Seconds between checks of the periodic tasks.",
)
def work_command(once: bool, interval: float, periodic_interval: float) -> None:
    """Deliver the outbox's due jobs (emails, webhooks), with retries, and run the periodic
    tasks at their hour (once per period across all workers); Ctrl+C stops."""
    import time

    from datapass import outbox, periodic

    worker = outbox.worker_id()
    click.echo(f"Outbox worker {worker} started.")
    checked_at = None
    while True:
        if checked_at is None or time.monotonic() - checked_at >= periodic_interval:
            checked_at = time.monotonic()
            for name, count in periodic.run_due(worker).items():
                outcome = "failed" if count is None else f"{count} done"
                click.echo(f"Periodic task {name}: {outcome}.")
        ran = outbox.work_once(worker)
        if once and not ran:
            return
        if not ran:
            time.sleep(interval)


@jobs_cli.command("periodic")
def periodic_command() -> None:
    """List the periodic tasks with their schedule, last run and next run."""
    from datapass import periodic

    for status in periodic.statuses():
        last = (
            f"{status.last_run_at:%Y-%m-%d %H:%M} UTC ({status.last_status}: {status.last_result})"
            if status.last_run_at
            else "never"
        )
        click.echo(
            f"{status.task.name}: {status.task.description}, {status.task.schedule}; "
            f"last run {last}; next run {status.next_run_at:%Y-%m-%d %H:%M %Z}"
        )


@jobs_cli.command("run-periodic")
@click.argument("name")
def run_periodic_command(name: str) -> None:
    """Run the periodic task NAME now (e.g. token_reminders), whatever its schedule."""
    from datapass import outbox, periodic

    try:
        count = periodic.run_now(name, outbox.worker_id())
    except LookupError as error:
        known = ", ".join(periodic.tasks())
        raise click.BadParameter(f"unknown task (known: {known}).", param_hint="NAME") from error
    except RuntimeError as error:
        raise click.ClickException(str(error)) from error
    if count is None:
        raise click.ClickException(f"{name} failed: see the logs and `flask jobs periodic`.")
    click.echo(f"{name}: {count} done.")


tokens_cli = AppGroup("tokens", help="Jetons des habilitations.")


@tokens_cli.command("remind")
def remind_command() -> None:
    """Queue the expiry reminders due (90, 60, 30, 14, 7, 0 days); idempotent. The worker runs
    it daily (periodic task token_reminders): this is for a run by hand."""
    from datapass.services.tokens import send_reminders

    click.echo(f"{send_reminders()} reminder(s) queued.")


clients_cli = AppGroup("clients", help="Clients de l’API (fournisseurs de données).")


@clients_cli.command("create-introspection")
@click.argument("name")
@click.option(
    "--definition",
    "definition_id",
    metavar="ID",
    help="The definition whose tokens it introspects (default: the catalogue's only one).",
)
def create_introspection_command(name: str, definition_id: str | None) -> None:
    """Create an introspection client for an API provider; prints its secret once.

    The client sees the tokens of one definition only (--definition, e.g. api_particulier)."""
    from datapass.services.tokens import create_client

    known = sorted(_definition_ids())
    if definition_id is not None and definition_id not in known:
        raise click.BadParameter(
            f"unknown definition {definition_id!r} (known: {', '.join(known)}).",
            param_hint="--definition",
        )
    if definition_id is None and len(known) != 1:
        raise click.UsageError(
            f"the catalogue has {len(known)} definitions ({', '.join(known) or 'none'}): "
            "choose one with --definition ID."
        )
    client, secret = create_client(name, definition_id=definition_id or known[0])
    click.echo(f"client_id: {client.client_id}")
    click.echo(f"client_secret: {secret}")
    click.echo(f"definition: {client.definition_id}")
    click.echo("The secret is shown only now: store it in the provider's secret manager.")


export_cli = AppGroup("export", help="Données ouvertes (docs/open-data.md).")


@export_cli.command("register")
@click.option("--month", required=True, metavar="YYYY-MM", help="The month, e.g. 2026-11.")
def export_register_command(month: str) -> None:
    """Write the CSV of the habilitations validated during MONTH (REGISTER_EXPORT_DIR). The
    worker writes last month's once it is over (periodic task register_export)."""
    from datapass.services.register import export_month

    try:
        path, count = export_month(month)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--month") from error
    click.echo(f"{count} habilitation(s) written to {path}")


def register(app) -> None:
    from datapass.catalog.cli import catalog_cli

    app.cli.add_command(catalog_cli)
    app.cli.add_command(dev_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(jobs_cli)
    app.cli.add_command(tokens_cli)
    app.cli.add_command(clients_cli)
    app.cli.add_command(export_cli)
