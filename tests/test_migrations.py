"""Migrations: one head, upgrade from an empty database, no difference with the models."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from datapass import create_app
from datapass.extensions import db
from datapass.models.search_document import is_index_object

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
# Revisions whose data migrations are tested below.
MEMBERSHIP_VERIFICATION = "0009"
CLIENT_DEFINITION = "0010"


@pytest.fixture
def empty_database_url(database_url, tmp_path):
    """A brand-new empty database on the same server as the test database."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrations.sqlite3'}"
        return
    name = f"datapass_migrations_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def include_object(_object, name, type_, _reflected, _compare_to) -> bool:
    """What the metadata describes (not the search index's FTS5 tables, created by DDL)."""
    return not is_index_object(name, type_)


def test_single_head():
    config = Config(str(MIGRATIONS / "alembic.ini"))
    config.set_main_option("script_location", str(MIGRATIONS))
    assert len(ScriptDirectory.from_config(config).get_heads()) == 1


def test_upgrade_from_empty_matches_models(empty_database_url, tmp_path):
    app = create_app(
        {"TESTING": True, "SQLALCHEMY_DATABASE_URI": empty_database_url},
        environ={"DATAPASS_ENV": "test", "INSTANCE_DIR": str(tmp_path)},
    )
    with app.app_context():
        upgrade()
        with db.engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "include_object": include_object}
            )
            differences = compare_metadata(context, db.metadata)
            tables = set(inspect(connection).get_table_names())
        assert differences == [], f"models and migrations differ: {differences}"
        assert {"users", "organizations", "authorization_requests", "authorizations"} <= tables
        downgrade(revision="base")
        with db.engine.connect() as connection:
            assert set(inspect(connection).get_table_names()) <= {"alembic_version"}
        db.engine.dispose()


def _revision_before(revision: str) -> str:
    config = Config(str(MIGRATIONS / "alembic.ini"))
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config).get_revision(revision).down_revision


def test_existing_rows_keep_their_meaning(empty_database_url, tmp_path):
    """Memberships verified before keep their verification, dated; existing introspection
    clients belong to the only definition then, API Particulier."""
    app = create_app(
        {"TESTING": True, "SQLALCHEMY_DATABASE_URI": empty_database_url},
        environ={"DATAPASS_ENV": "test", "INSTANCE_DIR": str(tmp_path)},
    )
    with app.app_context():
        upgrade(revision=_revision_before(MEMBERSHIP_VERIFICATION))
        created = "2025-01-02 03:04:05"
        with db.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO organizations (id, siret, created_at) VALUES "
                    "(1, '26920023400012', :at)"
                ),
                {"at": created},
            )
            connection.execute(
                text(
                    "INSERT INTO users (id, email, created_at, updated_at) VALUES "
                    "(1, 'a@ccas.example.fr', :at, :at), (2, 'b@ccas.example.fr', :at, :at)"
                ),
                {"at": created},
            )
            connection.execute(
                text(
                    "INSERT INTO memberships (user_id, organization_id, verified, "
                    "verification_reason, created_at) VALUES "
                    "(1, 1, :yes, 'identity_provider', :at), (2, 1, :no, 'declared_by_user', :at)"
                ),
                {"at": created, "yes": True, "no": False},
            )
        upgrade(revision=_revision_before(CLIENT_DEFINITION))
        with db.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO api_clients (client_id, secret_hash, name, kind, scopes, "
                    "created_at) VALUES ('dpc_a', 'h', 'API Particulier', 'introspection', "
                    "'[]', :at), ('dpc_b', 'h', 'Connecteur', 'developer', '[]', :at)"
                ),
                {"at": created},
            )
        upgrade()
        with db.engine.connect() as connection:
            memberships = connection.execute(
                text("SELECT user_id, verified, verified_at, verified_by_id FROM memberships")
            ).all()
            clients = dict(
                connection.execute(text("SELECT client_id, definition_id FROM api_clients")).all()
            )
        verified_at = {row[0]: row[2] for row in memberships}
        assert str(verified_at[1]).startswith("2025-01-02 03:04:05") and verified_at[2] is None
        assert {row[0]: bool(row[1]) for row in memberships} == {1: True, 2: False}
        assert all(row[3] is None for row in memberships)
        assert clients == {"dpc_a": "api_particulier", "dpc_b": None}
        downgrade(revision="base")
        db.engine.dispose()


def test_requests_already_submitted_get_their_crpa_deadline(empty_database_url, tmp_path):
    """The lifecycle migration: two calendar months after the last submission (the last day
    of a shorter month); none for a draft never submitted."""
    app = create_app(
        {"TESTING": True, "SQLALCHEMY_DATABASE_URI": empty_database_url},
        environ={"DATAPASS_ENV": "test", "INSTANCE_DIR": str(tmp_path)},
    )
    with app.app_context():
        upgrade(revision=_revision_before("0012"))
        at = "2025-01-02 03:04:05"
        with db.engine.begin() as connection:
            connection.execute(
                text("INSERT INTO organizations (id, siret, created_at) VALUES (1, '1', :at)"),
                {"at": at},
            )
            connection.execute(
                text(
                    "INSERT INTO users (id, email, created_at, updated_at) "
                    "VALUES (1, 'a@b.fr', :at, :at)"
                ),
                {"at": at},
            )
            for request_id, submitted in ((1, "2025-12-31 10:00:00"), (2, None)):
                connection.execute(
                    text(
                        "INSERT INTO authorization_requests (id, public_id, definition_id, "
                        "form_uid, catalog_version, state, data, organization_id, applicant_id, "
                        "terms_of_service_accepted, data_protection_officer_informed, created_at, "
                        "updated_at, version, last_submitted_at) VALUES (:id, :public_id, 'd', "
                        "'f', 'v', 'submitted', '{}', 1, 1, :no, :no, :at, :at, 1, :submitted)"
                    ),
                    {
                        "id": request_id,
                        "public_id": f"p{request_id}",
                        "no": False,
                        "at": at,
                        "submitted": submitted,
                    },
                )
        upgrade()
        with db.engine.connect() as connection:
            deadlines = dict(
                connection.execute(
                    text("SELECT id, decision_deadline FROM authorization_requests")
                ).all()
            )
        assert str(deadlines[1]).startswith("2026-02-28 10:00:00") and deadlines[2] is None
        with db.engine.begin() as connection:
            for table in ("authorization_requests", "users", "organizations"):
                connection.execute(text(f"DELETE FROM {table}"))  # noqa: S608 (constant names)
        downgrade(revision="base")
        db.engine.dispose()
