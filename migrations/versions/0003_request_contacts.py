"""Contacts' emails of a request, indexed (a contact may read the request)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 22:30:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "authorization_request_contacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("authorization_request_id", sa.Integer(), nullable=False),
        sa.Column("contact_type", sa.String(length=40), nullable=False),
        sa.Column("email", sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(
            ["authorization_request_id"],
            ["authorization_requests.id"],
            name=op.f("fk_authorization_request_contacts_authorization_request_id_authorization_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_authorization_request_contacts")),
        sa.UniqueConstraint(
            "authorization_request_id",
            "contact_type",
            name=op.f("uq_authorization_request_contacts_authorization_request_id"),
        ),
    )
    with op.batch_alter_table("authorization_request_contacts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_authorization_request_contacts_authorization_request_id"),
            ["authorization_request_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_authorization_request_contacts_email"), ["email"], unique=False
        )


def downgrade():
    with op.batch_alter_table("authorization_request_contacts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_authorization_request_contacts_email"))
        batch_op.drop_index(batch_op.f("ix_authorization_request_contacts_authorization_request_id"))
    op.drop_table("authorization_request_contacts")
