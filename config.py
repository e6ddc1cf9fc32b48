"""Configuration read from environment variables.

Nothing here is evaluated at import time: ``load_config`` reads the environment
it is given each time an application is created, so tests and several app
instances never share mutable defaults. Every variable is listed in the
README's configuration table.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

ROOT = Path(__file__).resolve().parent
DEFAULT_INSTANCE_DIR = ROOT / "instance"

ENVIRONMENTS = ("development", "test", "production")

# The development secret is public on purpose: production refuses it.
DEV_SECRET_KEY = "dev-secret-not-for-production"  # noqa: S105

DEFAULT_OIDC_SCOPES = "openid email given_name usual_name siret phone uid idp_id"
# The ``idp_id`` the bundled local identity provider sends (``datapass.local_idp``): trusted to
# vouch for SIRETs by default outside production.
LOCAL_IDP_ID = "local"

# Organisation registry adapters (datapass.services.sirene) and their public endpoints.
SIRENE_DEFAULT_URLS = {
    "recherche_entreprises": "https://recherche-entreprises.api.gouv.fr",
    "insee": "https://api.insee.fr/api-sirene/3.11",
}


MALWARE_SCANNERS = ("clamd", "none")

# Rate limits (Flask-Limiter's notation, ``N per minute|hour|day``, several joined by ``;``):
# config variable -> default. Who is counted is in ``datapass/rate_limits.py``; the table is in
# docs/security.md.
RATE_LIMITS = {
    "RATELIMIT_INTROSPECTION": "600 per minute",  # per introspection client (or token)
    "RATELIMIT_OAUTH_TOKEN": "30 per minute",  # per OAuth client
    "RATELIMIT_SIGN_IN": "30 per minute",  # sign-in callbacks per IP address
    "RATELIMIT_WEBHOOK_PINGS": "30 per hour",  # webhook tests per user
    "RATELIMIT_SIRENE_LOOKUPS": "60 per hour",  # SIRET look-ups per user
    "RATELIMIT_UPLOADS": "200 per day",  # uploaded files per user
    "RATELIMIT_NEW_DRAFTS": "50 per day",  # new drafts per user (or API client)
}


def _json_dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False)


class ConfigurationError(RuntimeError):
    """Raised when the configuration is unsafe or incomplete; the message is for operators."""


def _bool(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigurationError(f"{name} must be an integer, got {raw!r}.") from exc


def _ports(environ: Mapping[str, str], name: str) -> tuple[int, ...]:
    """Comma-separated TCP ports."""
    ports = []
    for part in environ.get(name, "").split(","):
        if not part.strip():
            continue
        try:
            port = int(part)
        except ValueError as exc:
            raise ConfigurationError(f"{name} must list ports, got {part.strip()!r}.") from exc
        if not 0 < port < 65536:
            raise ConfigurationError(f"{name}: {port} is not a TCP port.")
        ports.append(port)
    return tuple(ports)


def _hour(environ: Mapping[str, str], name: str, default: int) -> int:
    hour = _int(environ, name, default)
    if not 0 <= hour <= 23:
        raise ConfigurationError(f"{name} must be an hour from 0 to 23, got {hour}.")
    return hour


def _positive(environ: Mapping[str, str], name: str, default: int) -> int:
    number = _int(environ, name, default)
    if number < 1:
        raise ConfigurationError(f"{name} must be a positive integer, got {number}.")
    return number


def _minutes_up_to_an_hour(environ: Mapping[str, str], name: str, default: int) -> int:
    minutes = _int(environ, name, default)
    if not 1 <= minutes <= 60:
        raise ConfigurationError(f"{name} must be from 1 to 60 minutes, got {minutes}.")
    return minutes


def _timezone(environ: Mapping[str, str]) -> str:
    name = environ.get("PERIODIC_TIMEZONE", "").strip() or "Europe/Paris"
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigurationError(f"PERIODIC_TIMEZONE is not a known time zone: {name!r}.") from exc
    return name


def _rate_limit(environ: Mapping[str, str], name: str, default: str) -> str:
    from limits import parse_many

    value = environ.get(name, "").strip() or default
    try:
        parse_many(value)
    except ValueError as exc:
        raise ConfigurationError(
            f"{name} must be a rate limit such as '30 per minute', got {value!r}."
        ) from exc
    return value


def _database_url(environ: Mapping[str, str], instance_dir: Path) -> str:
    url = environ.get("DATABASE_URL", "").strip()
    if not url:
        return f"sqlite:///{instance_dir / 'datapass.sqlite3'}"
    # Heroku-style URLs and plain postgresql:// use the psycopg 3 driver.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _storage_url(environ: Mapping[str, str]) -> str:
    """``STORAGE_URL``: empty (local disk) or ``s3://bucket[/prefix]``."""
    url = environ.get("STORAGE_URL", "").strip()
    if not url:
        return ""
    parts = urlsplit(url)
    if parts.scheme != "s3" or not parts.netloc or parts.query or parts.fragment:
        raise ConfigurationError(
            f"STORAGE_URL must look like s3://bucket/prefix (or be empty), got {url!r}."
        )
    return url


def _idp_list(environ: Mapping[str, str], production: bool) -> tuple[str, ...]:
    """``OIDC_SIRET_VERIFIED_IDPS``: comma-separated ``idp_id`` values, or ``*`` for every one.

    Unset: none in production, the bundled local provider elsewhere; set but empty: none."""
    raw = environ.get("OIDC_SIRET_VERIFIED_IDPS")
    if raw is None:
        return () if production else (LOCAL_IDP_ID,)
    return tuple(dict.fromkeys(part.strip() for part in raw.split(",") if part.strip()))


def load_config(environ: Mapping[str, str] | None = None) -> dict:
    """Build the Flask configuration from ``environ`` (default: ``os.environ``)."""
    env = os.environ if environ is None else environ
    if served_by_gunicorn(env) and not env.get("DATAPASS_ENV", "").strip():
        raise ConfigurationError(
            "DATAPASS_ENV is empty in a process served by gunicorn: set it explicitly."
        )
    datapass_env = env.get("DATAPASS_ENV", "development").strip() or "development"
    if datapass_env not in ENVIRONMENTS:
        raise ConfigurationError(
            f"DATAPASS_ENV must be one of {', '.join(ENVIRONMENTS)}, got {datapass_env!r}."
        )
    production = datapass_env == "production"
    instance_dir = Path(env.get("INSTANCE_DIR") or DEFAULT_INSTANCE_DIR)
    sirene_provider = env.get("SIRENE_PROVIDER", "").strip() or "recherche_entreprises"
    if sirene_provider not in SIRENE_DEFAULT_URLS:
        raise ConfigurationError(
            f"SIRENE_PROVIDER must be one of {', '.join(SIRENE_DEFAULT_URLS)}, "
            f"got {sirene_provider!r}."
        )

    database_url = _database_url(env, instance_dir)
    config: dict = {
        "DATAPASS_ENV": datapass_env,
        "INSTANCE_DIR": str(instance_dir),
        "SECRET_KEY": env.get("SECRET_KEY") or DEV_SECRET_KEY,
        "SQLALCHEMY_DATABASE_URI": database_url,
        # JSON answers keep their accents (searchable as typed on SQLite too).
        # DATABASE_POOL_PRE_PING: check each pooled server connection before use (one more
        # round trip on every request). Off by default: a connection a restarted PostgreSQL
        # closed fails the request that used it, and SQLAlchemy then renews the whole pool;
        # connections older than DATABASE_POOL_RECYCLE seconds are replaced before use. A
        # SQLite file cannot go away: never checked.
        "SQLALCHEMY_ENGINE_OPTIONS": {
            "pool_pre_ping": _bool(env.get("DATABASE_POOL_PRE_PING"), False)
            and not database_url.startswith("sqlite"),
            "pool_recycle": _int(env, "DATABASE_POOL_RECYCLE", 3600),
            "json_serializer": _json_dumps,
            # A failed statement's message never carries its values (answers, emails,
            # token and secret digests) into the logs.
            "hide_parameters": True,
        },
        "PREFERRED_URL_SCHEME": env.get("PREFERRED_URL_SCHEME")
        or ("https" if production else "http"),
        "APP_ENVIRONMENT_NAME": env.get("APP_ENVIRONMENT_NAME") or datapass_env,
        # Sessions
        "SESSION_LIFETIME_HOURS": _int(env, "SESSION_LIFETIME_HOURS", 12),
        # « Se connecter en tant que » (administrators' support): its longest duration.
        "IMPERSONATION_MAX_MINUTES": _minutes_up_to_an_hour(env, "IMPERSONATION_MAX_MINUTES", 60),
        "SESSION_COOKIE_SECURE": _bool(env.get("SESSION_COOKIE_SECURE"), production),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_NAME": "datapass_session",
        "REMEMBER_COOKIE_SECURE": _bool(env.get("SESSION_COOKIE_SECURE"), production),
        "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session
        # authlib reads it from os.environ (plain-http identity provider, development only);
        # kept here so that production can refuse it.
        "AUTHLIB_INSECURE_TRANSPORT": _bool(env.get("AUTHLIB_INSECURE_TRANSPORT"), False),
        # Identity provider (OpenID Connect, ProConnect in production)
        "OIDC_DISCOVERY_URL": env.get("OIDC_DISCOVERY_URL", "").strip(),
        "OIDC_CLIENT_ID": env.get("OIDC_CLIENT_ID", "datapass-local"),
        "OIDC_CLIENT_SECRET": env.get("OIDC_CLIENT_SECRET", "datapass-local-secret"),
        "OIDC_SCOPES": env.get("OIDC_SCOPES") or DEFAULT_OIDC_SCOPES,
        # The identity providers (ProConnect's ``idp_id`` claim) whose SIRET makes a verified
        # membership; ``("*",)`` trusts every one.
        "OIDC_SIRET_VERIFIED_IDPS": _idp_list(env, production),
        # Organisations
        "SIRENE_PROVIDER": sirene_provider,
        "SIRENE_API_URL": env.get("SIRENE_API_URL") or SIRENE_DEFAULT_URLS[sirene_provider],
        "SIRENE_API_TOKEN": env.get("SIRENE_API_TOKEN", ""),
        "SIRENE_TIMEOUT_SECONDS": float(env.get("SIRENE_TIMEOUT_SECONDS") or 3),
        # Emails
        "MAIL_SERVER": env.get("MAIL_SERVER", "").strip(),
        "MAIL_PORT": _int(env, "MAIL_PORT", 25),
        "MAIL_USE_TLS": _bool(env.get("MAIL_USE_TLS"), False),
        "MAIL_USERNAME": env.get("MAIL_USERNAME", ""),
        "MAIL_PASSWORD": env.get("MAIL_PASSWORD", ""),
        "MAIL_DEFAULT_SENDER": env.get("MAIL_DEFAULT_SENDER")
        or "DataPass <ne-pas-repondre@datapass.local>",
        "MAIL_TIMEOUT_SECONDS": float(env.get("MAIL_TIMEOUT_SECONDS") or 10),
        # Where emails' links point (the public address of this DataPass).
        "PUBLIC_URL": (env.get("PUBLIC_URL") or "http://127.0.0.1:5000").rstrip("/"),
        "SUPPORT_EMAIL": env.get("SUPPORT_EMAIL") or "datapass@api.gouv.fr",
        # Webhooks
        "WEBHOOK_TIMEOUT_SECONDS": float(env.get("WEBHOOK_TIMEOUT_SECONDS") or 10),
        "WEBHOOK_MAX_CONSECUTIVE_FAILURES": _int(env, "WEBHOOK_MAX_CONSECUTIVE_FAILURES", 20),
        # No internal reach (datapass/outbound.py): private addresses are refused unless this
        # is on (outside production only: `make run`'s development receiver); ports 443 and 80
        # plus this allowlist; the certificates trusted for https (default: certifi's).
        "WEBHOOK_ALLOW_PRIVATE_NETWORKS": _bool(env.get("WEBHOOK_ALLOW_PRIVATE_NETWORKS"), False),
        "WEBHOOK_ALLOWED_PORTS": _ports(env, "WEBHOOK_ALLOWED_PORTS"),
        "WEBHOOK_CA_BUNDLE": env.get("WEBHOOK_CA_BUNDLE", "").strip(),
        # A function (host, port) -> [address, …] resolving webhook host names; None: the
        # system's. Set by code only (tests give local names with it).
        "WEBHOOK_RESOLVER": None,
        # API tokens
        "TOKEN_LIFETIME_DAYS": _int(env, "TOKEN_LIFETIME_DAYS", 548),
        # Invitations to claim a request prepared by the instruction or an API client.
        "INVITATION_LIFETIME_DAYS": _int(env, "INVITATION_LIFETIME_DAYS", 30),
        # An invitation never claimed is forgotten (answers, note, email) this many days
        # after its expiry or cancellation; its documents go at the expiry already.
        "INVITATION_RETENTION_DAYS": _int(env, "INVITATION_RETENTION_DAYS", 90),
        "TOKEN_ROTATION_OVERLAP_DAYS": _int(env, "TOKEN_ROTATION_OVERLAP_DAYS", 7),
        # Documents: on this machine's disk (STORAGE_DIR) unless STORAGE_URL names an
        # S3-compatible bucket (``s3://bucket/prefix``), which several machines share.
        "STORAGE_DIR": env.get("STORAGE_DIR") or str(instance_dir / "storage"),
        "STORAGE_URL": _storage_url(env),
        # Another S3-compatible provider than AWS (OVHcloud, Scaleway, MinIO…).
        "S3_ENDPOINT_URL": env.get("S3_ENDPOINT_URL", "").strip(),
        # Request bodies: every route, url-encoded forms and JSON included; the wizard's steps
        # take files (6 files of 10 MB plus the form). Over it: the French 413 page.
        "MAX_CONTENT_LENGTH": _int(env, "MAX_REQUEST_BYTES", 1024 * 1024),
        "MAX_UPLOAD_REQUEST_BYTES": _int(env, "MAX_UPLOAD_REQUEST_BYTES", 61 * 1024 * 1024),
        "MAX_FORM_MEMORY_SIZE": _int(env, "MAX_REQUEST_BYTES", 1024 * 1024),
        # Malware scan of uploads (docs/security.md): clamd in production, none in development
        "MALWARE_SCANNER": (env.get("MALWARE_SCANNER") or ("clamd" if production else "none"))
        .strip()
        .lower(),
        "CLAMD_ADDRESS": env.get("CLAMD_ADDRESS", "").strip(),
        "CLAMD_TIMEOUT_SECONDS": float(env.get("CLAMD_TIMEOUT_SECONDS") or 30),
        # Rate limits (datapass/rate_limits.py): the counters live in memory by default, in a
        # shared store (redis://…) when several processes serve; see ``check_rate_limit_storage``.
        "RATELIMIT_STORAGE_URI": env.get("RATELIMIT_STORAGE_URI", "").strip() or "memory://",
        "RATELIMIT_ENABLED": _bool(env.get("RATELIMIT_ENABLED"), True),
        "RATELIMIT_KEY_PREFIX": "datapass",
        **{name: _rate_limit(env, name, default) for name, default in RATE_LIMITS.items()},
        # Catalogue
        "CATALOG_DIR": env.get("CATALOG_DIR") or "",
        # Periodic tasks, run by the worker (datapass.periodic): the local hour of each.
        "PERIODIC_TIMEZONE": _timezone(env),
        "TOKEN_REMINDERS_HOUR": _hour(env, "TOKEN_REMINDERS_HOUR", 6),
        "CLEANUP_HOUR": _hour(env, "CLEANUP_HOUR", 3),
        "DEADLINE_DIGEST_HOUR": _hour(env, "DEADLINE_DIGEST_HOUR", 8),
        "OUTBOX_RETENTION_DAYS": _int(env, "OUTBOX_RETENTION_DAYS", 30),
        # Reminders and archiving of requests left waiting (services/reminders.py)
        "REQUEST_REMINDERS_HOUR": _hour(env, "REQUEST_REMINDERS_HOUR", 7),
        "DRAFT_REMINDER_DAYS": _positive(env, "DRAFT_REMINDER_DAYS", 15),
        "CHANGES_FIRST_REMINDER_MONTHS": _positive(env, "CHANGES_FIRST_REMINDER_MONTHS", 1),
        "CHANGES_SECOND_REMINDER_MONTHS": _positive(env, "CHANGES_SECOND_REMINDER_MONTHS", 2),
        "CHANGES_ARCHIVE_WARNING_MONTHS": _positive(env, "CHANGES_ARCHIVE_WARNING_MONTHS", 3),
        "ARCHIVE_WARNING_DAYS": _positive(env, "ARCHIVE_WARNING_DAYS", 15),
        "ARCHIVE_MAX_PER_RUN": _positive(env, "ARCHIVE_MAX_PER_RUN", 100),
        # The RGPD purge (services/purge.py): months kept after a request's closure
        "RETENTION_MONTHS_AFTER_CLOSURE": _positive(env, "RETENTION_MONTHS_AFTER_CLOSURE", 24),
        "PURGE_HOUR": _hour(env, "PURGE_HOUR", 4),
        # The register's monthly CSV (docs/open-data.md): where, and the hour of the daily task
        # that writes last month's file once it is over.
        "REGISTER_EXPORT_DIR": env.get("REGISTER_EXPORT_DIR") or str(instance_dir / "open-data"),
        "REGISTER_EXPORT_HOUR": _hour(env, "REGISTER_EXPORT_HOUR", 4),
        # Public statistics (/stats): seconds an instance keeps a computed set (0: none).
        "STATS_CACHE_SECONDS": _int(env, "STATS_CACHE_SECONDS", 300),
    }
    if env.get("SERVER_NAME"):
        config["SERVER_NAME"] = env["SERVER_NAME"]
    config["PERMANENT_SESSION_LIFETIME"] = timedelta(hours=config["SESSION_LIFETIME_HOURS"])
    # The lifetime is absolute (enforced on the server): the cookie is sent again only when
    # the session changes, not by every response (static files included), which would each
    # write back the session as it was when they started, losing what a concurrent page
    # stored (an editor's pre-fill between the link and « Débuter ma demande »).
    config["SESSION_REFRESH_EACH_REQUEST"] = False

    if config["MALWARE_SCANNER"] not in MALWARE_SCANNERS:
        raise ConfigurationError(
            f"MALWARE_SCANNER must be one of {', '.join(MALWARE_SCANNERS)}, "
            f"got {config['MALWARE_SCANNER']!r}."
        )
    if config["MALWARE_SCANNER"] == "clamd" and not config["CLAMD_ADDRESS"] and not production:
        raise ConfigurationError(
            "CLAMD_ADDRESS is missing: MALWARE_SCANNER=clamd needs clamd's address "
            "(tcp://host:3310 or unix:///run/clamav/clamd.ctl)."
        )
    if production:
        check_production(config)
    return config


def check_production(config: Mapping) -> None:
    """Refuse to run in production with a configuration that is unsafe."""
    problems = []
    if not config.get("SECRET_KEY") or config["SECRET_KEY"] == DEV_SECRET_KEY:
        problems.append(
            "SECRET_KEY is missing or is the development default: set a long random value."
        )
    elif len(config["SECRET_KEY"]) < 32:
        problems.append("SECRET_KEY is too short: use at least 32 random characters.")
    if str(config.get("SQLALCHEMY_DATABASE_URI", "")).startswith("sqlite"):
        problems.append("DATABASE_URL points to SQLite: production needs PostgreSQL.")
    if not config.get("OIDC_DISCOVERY_URL"):
        problems.append("OIDC_DISCOVERY_URL is missing: production needs an identity provider.")
    if not config.get("MAIL_SERVER"):
        problems.append("MAIL_SERVER is missing: production sends emails over SMTP.")
    if not config.get("SESSION_COOKIE_SECURE"):
        problems.append("SESSION_COOKIE_SECURE is off: production sends cookies over HTTPS only.")
    if config.get("AUTHLIB_INSECURE_TRANSPORT"):
        problems.append(
            "AUTHLIB_INSECURE_TRANSPORT is set: production signs in over HTTPS only; unset it."
        )
    if not config.get("RATELIMIT_ENABLED", True):
        problems.append("RATELIMIT_ENABLED is off: production keeps its rate limits.")
    if config.get("WEBHOOK_ALLOW_PRIVATE_NETWORKS"):
        problems.append(
            "WEBHOOK_ALLOW_PRIVATE_NETWORKS is set: production never calls internal addresses."
        )
    if config.get("MALWARE_SCANNER") != "clamd":
        problems.append("MALWARE_SCANNER is not clamd: production scans every upload.")
    elif not config.get("CLAMD_ADDRESS"):
        problems.append("CLAMD_ADDRESS is missing: production scans every upload with clamd.")
    if problems:
        raise ConfigurationError("Refusing to start in production:\n- " + "\n- ".join(problems))


def served_by_gunicorn(environ: Mapping[str, str]) -> bool:
    """Gunicorn's master sets ``SERVER_SOFTWARE=gunicorn/…`` in its environment."""
    return environ.get("SERVER_SOFTWARE", "").startswith("gunicorn")


def check_server(environ: Mapping[str, str], workers: int) -> None:
    """Refuse to serve with gunicorn (``gunicorn.conf.py``'s ``on_starting``) when:

    - ``DATAPASS_ENV`` has no value: a forgotten variable must not serve the development
      configuration (the development pages, the public secret) on the internet;
    - production runs several workers with rate-limit counters in process memory: each
      worker would count alone, multiplying every limit (``RATELIMIT_STORAGE_URI``)."""
    if not environ.get("DATAPASS_ENV", "").strip():
        raise ConfigurationError(
            "DATAPASS_ENV is empty: set it (production, or development on your machine) "
            "before serving with gunicorn."
        )
    config = load_config(environ)
    if (
        config["DATAPASS_ENV"] == "production"
        and workers > 1
        and config["RATELIMIT_STORAGE_URI"].startswith("memory://")
    ):
        raise ConfigurationError(
            f"Refusing to start in production with {workers} workers and in-memory rate "
            "limits: set RATELIMIT_STORAGE_URI to a shared store (redis://…)."
        )
