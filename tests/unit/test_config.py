"""Configuration from the environment, and the production guards."""

from __future__ import annotations

from pathlib import Path

import pytest

from config import DEV_SECRET_KEY, ConfigurationError, load_config
from datapass import create_app

GOOD_PRODUCTION = {
    "DATAPASS_ENV": "production",
    "SECRET_KEY": "x" * 48,
    "DATABASE_URL": "postgresql://datapass@db.internal/datapass",
    "OIDC_DISCOVERY_URL": "https://auth.agentconnect.gouv.fr/api/v2/.well-known/openid-configuration",
    "MAIL_SERVER": "smtp.internal",
    "CLAMD_ADDRESS": "tcp://clamav.internal:3310",
}


def test_defaults_are_for_local_development(tmp_path):
    config = load_config({"INSTANCE_DIR": str(tmp_path)})
    assert config["DATAPASS_ENV"] == "development"
    assert config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'datapass.sqlite3'}"
    assert config["SECRET_KEY"] == DEV_SECRET_KEY
    assert config["SESSION_COOKIE_SECURE"] is False
    assert config["SESSION_COOKIE_HTTPONLY"] is True
    assert config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert config["STORAGE_DIR"] == str(tmp_path / "storage")
    assert "siret" in config["OIDC_SCOPES"].split()


def test_every_documented_variable_is_read():
    config = load_config(
        {
            "SECRET_KEY": "s",
            "DATABASE_URL": "postgres://u@h/d",
            "SERVER_NAME": "datapass.example.gouv.fr",
            "PREFERRED_URL_SCHEME": "https",
            "OIDC_DISCOVERY_URL": "https://idp.example/.well-known/openid-configuration",
            "OIDC_CLIENT_ID": "client",
            "OIDC_CLIENT_SECRET": "secret",
            "OIDC_SCOPES": "openid email",
            "SIRENE_API_URL": "http://127.0.0.1:9999",
            "MAIL_SERVER": "smtp.example",
            "MAIL_PORT": "2525",
            "STORAGE_DIR": "/srv/datapass/files",
            "SESSION_LIFETIME_HOURS": "8",
            "PERIODIC_TIMEZONE": "America/Cayenne",
            "TOKEN_REMINDERS_HOUR": "7",
            "CLEANUP_HOUR": "0",
            "DEADLINE_DIGEST_HOUR": "9",
            "OUTBOX_RETENTION_DAYS": "10",
        }
    )
    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@h/d"
    assert config["SERVER_NAME"] == "datapass.example.gouv.fr"
    assert config["PREFERRED_URL_SCHEME"] == "https"
    assert config["OIDC_CLIENT_ID"] == "client"
    assert config["OIDC_SCOPES"] == "openid email"
    assert config["SIRENE_API_URL"] == "http://127.0.0.1:9999"
    assert (config["MAIL_SERVER"], config["MAIL_PORT"]) == ("smtp.example", 2525)
    assert config["STORAGE_DIR"] == "/srv/datapass/files"
    assert config["PERMANENT_SESSION_LIFETIME"].total_seconds() == 8 * 3600
    assert config["PERIODIC_TIMEZONE"] == "America/Cayenne"
    assert (config["TOKEN_REMINDERS_HOUR"], config["CLEANUP_HOUR"]) == (7, 0)
    assert config["OUTBOX_RETENTION_DAYS"] == 10
    assert config["DEADLINE_DIGEST_HOUR"] == 9


def test_pooled_connections_are_not_checked_unless_asked(tmp_path):
    server = {"DATABASE_URL": "postgresql://u@h/d", "INSTANCE_DIR": str(tmp_path)}
    options = load_config(server)["SQLALCHEMY_ENGINE_OPTIONS"]
    # A check is a round trip on every request; stale connections are recycled instead.
    assert options["pool_pre_ping"] is False and options["pool_recycle"] == 3600
    asked = {**server, "DATABASE_POOL_PRE_PING": "1", "DATABASE_POOL_RECYCLE": "600"}
    options = load_config(asked)["SQLALCHEMY_ENGINE_OPTIONS"]
    assert options["pool_pre_ping"] is True and options["pool_recycle"] == 600
    sqlite = {"DATABASE_POOL_PRE_PING": "1", "INSTANCE_DIR": str(tmp_path)}
    assert load_config(sqlite)["SQLALCHEMY_ENGINE_OPTIONS"]["pool_pre_ping"] is False


def test_production_accepts_a_safe_configuration():
    config = load_config(GOOD_PRODUCTION)
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["PREFERRED_URL_SCHEME"] == "https"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"SECRET_KEY": ""}, "SECRET_KEY is missing"),
        ({"SECRET_KEY": DEV_SECRET_KEY}, "development default"),
        ({"SECRET_KEY": "short"}, "too short"),
        ({"DATABASE_URL": ""}, "SQLite"),
        ({"DATABASE_URL": "sqlite:////srv/db.sqlite3"}, "SQLite"),
        ({"OIDC_DISCOVERY_URL": ""}, "OIDC_DISCOVERY_URL"),
        ({"MAIL_SERVER": ""}, "MAIL_SERVER"),
    ],
)
def test_production_refuses_unsafe_settings(change, message):
    with pytest.raises(ConfigurationError) as error:
        load_config({**GOOD_PRODUCTION, **change})
    assert "Refusing to start in production" in str(error.value)
    assert message in str(error.value)


def test_create_app_refuses_an_unsafe_production(tmp_path):
    with pytest.raises(ConfigurationError):
        create_app(environ={"DATAPASS_ENV": "production", "INSTANCE_DIR": str(tmp_path)})


@pytest.mark.parametrize(("name", "value"), [("DATAPASS_ENV", "staging"), ("MAIL_PORT", "abc")])
def test_bad_values_are_reported(name, value):
    with pytest.raises(ConfigurationError) as error:
        load_config({name: value})
    assert name in str(error.value)


def test_each_app_reads_its_own_environment(tmp_path):
    first = create_app(environ={"INSTANCE_DIR": str(tmp_path / "a"), "SECRET_KEY": "one"})
    second = create_app(environ={"INSTANCE_DIR": str(tmp_path / "b"), "SECRET_KEY": "two"})
    assert first.config["SECRET_KEY"] == "one"
    assert second.config["SECRET_KEY"] == "two"
    assert first.config["SQLALCHEMY_DATABASE_URI"] != second.config["SQLALCHEMY_DATABASE_URI"]


def test_identity_providers_trusted_for_sirets():
    # Outside production the bundled local provider (idp_id « local ») is trusted by default.
    assert load_config({})["OIDC_SIRET_VERIFIED_IDPS"] == ("local",)
    assert load_config({"DATAPASS_ENV": "test"})["OIDC_SIRET_VERIFIED_IDPS"] == ("local",)
    # In production none by default: memberships are verified by admins or instructors.
    assert load_config(GOOD_PRODUCTION)["OIDC_SIRET_VERIFIED_IDPS"] == ()
    listed = load_config({"OIDC_SIRET_VERIFIED_IDPS": " fi-a, fi-b,,fi-a "})
    assert listed["OIDC_SIRET_VERIFIED_IDPS"] == ("fi-a", "fi-b")
    assert load_config({"OIDC_SIRET_VERIFIED_IDPS": "*"})["OIDC_SIRET_VERIFIED_IDPS"] == ("*",)
    assert load_config({"OIDC_SIRET_VERIFIED_IDPS": ""})["OIDC_SIRET_VERIFIED_IDPS"] == ()
    # ProConnect releases the idp_id claim with the scope of that name.
    assert "idp_id" in load_config({})["OIDC_SCOPES"].split()


def test_malware_scanner_settings():
    assert load_config({})["MALWARE_SCANNER"] == "none"
    config = load_config({"MALWARE_SCANNER": "clamd", "CLAMD_ADDRESS": "unix:///run/c.ctl"})
    assert (config["MALWARE_SCANNER"], config["CLAMD_ADDRESS"]) == ("clamd", "unix:///run/c.ctl")
    assert config["CLAMD_TIMEOUT_SECONDS"] == 30
    assert load_config(GOOD_PRODUCTION)["MALWARE_SCANNER"] == "clamd"
    with pytest.raises(ConfigurationError, match="MALWARE_SCANNER must be one of"):
        load_config({"MALWARE_SCANNER": "sophos"})
    with pytest.raises(ConfigurationError, match="CLAMD_ADDRESS is missing"):
        load_config({"MALWARE_SCANNER": "clamd"})


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"MALWARE_SCANNER": "none"}, "MALWARE_SCANNER is not clamd"),
        ({"CLAMD_ADDRESS": ""}, "CLAMD_ADDRESS is missing"),
    ],
)
def test_production_scans_uploads(change, message):
    with pytest.raises(ConfigurationError) as error:
        load_config({**GOOD_PRODUCTION, **change})
    assert "Refusing to start in production" in str(error.value)
    assert message in str(error.value)


def test_request_body_limits():
    config = load_config({})
    assert config["MAX_CONTENT_LENGTH"] == config["MAX_FORM_MEMORY_SIZE"] == 1024 * 1024
    assert config["MAX_UPLOAD_REQUEST_BYTES"] == 61 * 1024 * 1024
    config = load_config({"MAX_REQUEST_BYTES": "2048", "MAX_UPLOAD_REQUEST_BYTES": "4096"})
    assert (config["MAX_CONTENT_LENGTH"], config["MAX_UPLOAD_REQUEST_BYTES"]) == (2048, 4096)


LIFECYCLE_DEFAULTS = {
    "REQUEST_REMINDERS_HOUR": 7,
    "DRAFT_REMINDER_DAYS": 15,
    "CHANGES_FIRST_REMINDER_MONTHS": 1,
    "CHANGES_SECOND_REMINDER_MONTHS": 2,
    "CHANGES_ARCHIVE_WARNING_MONTHS": 3,
    "ARCHIVE_WARNING_DAYS": 15,
    "ARCHIVE_MAX_PER_RUN": 100,
    "RETENTION_MONTHS_AFTER_CLOSURE": 24,
    "PURGE_HOUR": 4,
}


def test_reminders_and_purge_settings():
    assert {name: load_config({})[name] for name in LIFECYCLE_DEFAULTS} == LIFECYCLE_DEFAULTS
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    assert all(f"| `{name}` | `{value}` |" in readme for name, value in LIFECYCLE_DEFAULTS.items())
    changed = load_config(dict.fromkeys(LIFECYCLE_DEFAULTS, "5"))
    assert all(changed[name] == 5 for name in LIFECYCLE_DEFAULTS)
    for name in ("RETENTION_MONTHS_AFTER_CLOSURE", "ARCHIVE_MAX_PER_RUN", "DRAFT_REMINDER_DAYS"):
        with pytest.raises(ConfigurationError, match=f"{name} must be a positive integer"):
            load_config({name: "0"})
    with pytest.raises(ConfigurationError, match="PURGE_HOUR must be an hour"):
        load_config({"PURGE_HOUR": "24"})
