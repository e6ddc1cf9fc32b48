"""Free-text search index: one normalised document per request, indexed

``authorization_request_search`` holds each request's search document; PostgreSQL indexes
it with pg_trgm (GIN), SQLite mirrors it into an FTS5 trigram table through triggers. The
documents of existing requests are built here (datapass/services/search_index.py).

Revision ID: 0018
Revises: 0015 (re-chained at the merge: the index builder reads purged_at)
Create Date: 2026-12-01 15:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0018"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade():
    from datapass.models.search_document import (
        POSTGRESQL_BEFORE,
        SQLITE_AFTER,
        TRIGRAM_INDEX,
    )
    from datapass.services import search_index

    connection = op.get_bind()
    postgresql = connection.dialect.name == "postgresql"
    if postgresql:
        for statement in POSTGRESQL_BEFORE:
            op.execute(statement)
    op.create_table(
        "authorization_request_search",
        sa.Column("authorization_request_id", sa.Integer(), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["authorization_request_id"],
            ["authorization_requests.id"],
            name=op.f("fk_authorization_request_search_authorization_request_id_authorization_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "authorization_request_id", name=op.f("pk_authorization_request_search")
        ),
    )
    if postgresql:
        op.create_index(
            TRIGRAM_INDEX,
            "authorization_request_search",
            ["document"],
            postgresql_using="gin",
            postgresql_ops={"document": "gin_trgm_ops"},
        )
    else:
        for statement in SQLITE_AFTER:
            op.execute(statement)
    search_index.rebuild(connection)


def downgrade():
    from datapass.models.search_document import SQLITE_DROP

    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_DROP:
            op.execute(statement)
    op.drop_table("authorization_request_search")
