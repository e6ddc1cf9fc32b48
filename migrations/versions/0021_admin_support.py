"""Administrators' support tools: the audit log, impersonation on server-side sessions

Revision ID: 0021
Revises: 0014
Create Date: 2026-12-01 14:40:00

"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0021"
down_revision = "0014"  # re-chained after main's 0022 then 0014 at the merges
branch_labels = None
depends_on = None

# Who and what an audit entry names; the entry outlives them (SET NULL).
AUDIT_REFERENCES = (
    ("actor_id", "users"),
    ("impersonator_id", "users"),
    ("target_user_id", "users"),
    ("organization_id", "organizations"),
    ("authorization_request_id", "authorization_requests"),
)


def upgrade():
    op.create_table(
        "audit_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        *[sa.Column(column, sa.Integer(), nullable=True) for column, _ in AUDIT_REFERENCES],
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column(
            "details",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        *[
            sa.ForeignKeyConstraint(
                [column],
                [f"{table}.id"],
                name=op.f(f"fk_audit_entries_{column}_{table}"),
                ondelete="SET NULL",
            )
            for column, table in AUDIT_REFERENCES
        ],
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_entries")),
    )
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_entries_actor_id"), ["actor_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_audit_entries_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_audit_entries_kind"), ["kind"], unique=False)
    with op.batch_alter_table("user_sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("impersonated_user_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("impersonation_reason", sa.String(length=500), nullable=True)
        )
        batch_op.add_column(sa.Column("impersonation_expires_at", sa.DateTime(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_user_sessions_impersonated_user_id_users"),
            "users",
            ["impersonated_user_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade():
    with op.batch_alter_table("user_sessions", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_user_sessions_impersonated_user_id_users"), type_="foreignkey"
        )
        batch_op.drop_column("impersonation_expires_at")
        batch_op.drop_column("impersonation_reason")
        batch_op.drop_column("impersonated_user_id")
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_entries_kind"))
        batch_op.drop_index(batch_op.f("ix_audit_entries_created_at"))
        batch_op.drop_index(batch_op.f("ix_audit_entries_actor_id"))
    op.drop_table("audit_entries")
