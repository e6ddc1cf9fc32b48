"""DataPass: requests for access to personal data between French administrations."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

from flask import Flask
from werkzeug.routing import IntegerConverter

from config import load_config
from datapass.request_cycle import DataPassFlask, drop_repeated_context_processor


def create_app(overrides: Mapping | None = None, environ: Mapping[str, str] | None = None) -> Flask:
    """Build the application from the environment, then apply ``overrides`` (tests)."""
    root = Path(__file__).resolve().parent.parent
    app = DataPassFlask(
        __name__,
        template_folder=str(root / "templates"),
        static_folder="static",
        instance_relative_config=False,
    )
    from datapass.views.template_helpers import TemplateEnvironment

    app.jinja_environment = TemplateEnvironment  # before the first use of app.jinja_env
    app.config.from_mapping(load_config(environ))
    if overrides:
        app.config.from_mapping(overrides)
    Path(app.config["INSTANCE_DIR"]).mkdir(parents=True, exist_ok=True)

    register_logging(app)
    register_extensions(app)
    register_security(app)
    register_catalog(app)
    register_side_effects(app)
    register_blueprints(app)
    drop_idle_rate_limit_check(app)
    register_errorhandlers(app)
    register_template_helpers(app)
    register_cli(app)
    drop_repeated_context_processor(app)
    return app


def register_logging(app: Flask) -> None:
    if not app.debug and not app.testing:
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s"
        )


def register_extensions(app: Flask) -> None:
    from datapass import models  # noqa: F401  (registers the tables)
    from datapass.database import configure_engine, install_connections
    from datapass.extensions import csrf, db, limiter, login_manager, migrate

    db.init_app(app)
    with app.app_context():
        configure_engine(db.engine)
        install_connections(app, db.engine)  # the pages' Core reads (read_connection)
    migrate.init_app(app, db, directory=str(Path(app.root_path).parent / "migrations"))
    csrf.init_app(app)
    login_manager.init_app(app)
    limiter.init_app(app)


def register_security(app: Flask) -> None:
    from datapass import security

    security.register(app)


def register_catalog(app: Flask) -> None:
    from datapass import catalog, storage

    catalog.init_app(app)
    storage.init_app(app)


class DatabaseInteger(IntegerConverter):
    """``<int:…>`` within the range of an SQL integer: a larger number is a 404, not a 500."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


def register_side_effects(app: Flask) -> None:
    """What happens besides a request's own change, named here and nowhere else.

    Event subscribers see each new timeline event in its transaction and queue outbox jobs;
    handlers deliver the jobs of each kind (``flask jobs work``), which also runs the periodic
    tasks at their hour. Removed documents' files are deleted once their transaction commits.
    """
    from datapass import outbox, periodic
    from datapass.services import (
        audit,
        deadlines,
        deliberation_analysis,
        documents,
        emails,
        housekeeping,
        purge,
        register,
        reminders,
        scanning,
        search_index,
        tokens,
        webhook_delivery,
        webhooks,
    )

    # The free-text search index follows every write of what it holds, in its transaction.
    search_index.install()
    outbox.init_app(
        app,
        event_subscribers=[emails.emails_for_event, webhook_delivery.queue_for_event],
        handlers={
            "email": emails.deliver,
            "webhook": webhook_delivery.deliver,
            scanning.JOB_KIND: scanning.deliver,
            webhooks.PING_JOB: webhooks.deliver_ping,
            deliberation_analysis.JOB_KIND: deliberation_analysis.deliver,
        },
    )
    config = app.config
    periodic.init_app(
        app,
        tasks=[
            periodic.Task(
                "token_reminders",
                tokens.send_reminders,
                "Rappels d’expiration des jetons",
                config["TOKEN_REMINDERS_HOUR"],
            ),
            periodic.Task(
                "cleanup",
                housekeeping.clean_up,
                "Sessions expirées, tâches livrées anciennes et invitations expirées",
                config["CLEANUP_HOUR"],
            ),
            periodic.Task(
                "deadline_digest",
                deadlines.send_digest,
                "Récapitulatif hebdomadaire des échéances aux instructeurs",
                config["DEADLINE_DIGEST_HOUR"],
                every=periodic.WEEKLY,
                weekday=0,
            ),
            periodic.Task(
                "request_reminders",
                reminders.run,
                "Relances des demandeurs, avertissements et archivage des demandes sans réponse",
                config["REQUEST_REMINDERS_HOUR"],
            ),
            periodic.Task(
                "rgpd_purge",
                purge.run,
                "Purge RGPD des demandes closes depuis la durée de conservation",
                config["PURGE_HOUR"],
            ),
            periodic.Task(
                "register_export",
                register.export_last_month,
                "Export mensuel du registre des habilitations (CSV du mois écoulé)",
                config["REGISTER_EXPORT_HOUR"],
            ),
        ],
    )
    documents.register()
    audit.register()


def register_blueprints(app: Flask) -> None:
    app.url_map.converters["int"] = DatabaseInteger
    from datapass import api
    from datapass.views import (
        admin,
        admin_support,  # noqa: F401  (its routes join the admin blueprint)
        applicant,
        auth,
        developers,
        editors,
        health,
        instruction,
        instruction_admin,
        invitations,
        open_data,
        public,
        tokens,
    )

    app.register_blueprint(public.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(open_data.bp)
    auth.register(app)
    app.register_blueprint(applicant.bp)
    app.register_blueprint(instruction.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(tokens.bp)
    app.register_blueprint(developers.bp)
    api.register(app)
    app.register_blueprint(instruction_admin.bp)
    app.register_blueprint(editors.bp)
    app.register_blueprint(invitations.bp)
    if app.config["DATAPASS_ENV"] != "production":
        from datapass.views import dev

        app.register_blueprint(dev.bp)


def drop_idle_rate_limit_check(app: Flask) -> None:
    """Flask-Limiter checks the default, application, meta and blueprint limits before every
    request. We have none: every limit decorates its view (``rate_limits.py``) and is checked
    when that view is called, so the hook would only cost every page its time. It stays if
    such a limit is ever configured."""
    from datapass.extensions import limiter

    manager = limiter.limit_manager
    if (
        any(app.config.get(name) for name in ("RATELIMIT_DEFAULT", "RATELIMIT_APPLICATION"))
        or app.config.get("RATELIMIT_META")
        or manager.default_limits
        or manager.application_limits
        or any(manager.blueprint_limits(app, name) for name in app.blueprints)
    ):
        return
    check = limiter._check_request_limit
    hooks = app.before_request_funcs.get(None, [])
    app.before_request_funcs[None] = [hook for hook in hooks if hook != check]


def register_errorhandlers(app: Flask) -> None:
    from datapass.views import errors

    errors.register(app)


def register_template_helpers(app: Flask) -> None:
    from datapass.permissions import TEMPLATE_PREDICATES
    from datapass.views import template_helpers

    template_helpers.register(app)
    app.jinja_env.globals.update(TEMPLATE_PREDICATES)


def register_cli(app: Flask) -> None:
    from datapass import cli

    cli.register(app)
