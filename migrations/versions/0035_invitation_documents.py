"""Documents attached to a request prepared by the instruction (an invitation)

A document belongs to a request or, until its applicant claims it, to an invitation
(datapass/services/invitation_documents.py).

Revision ID: 0035
Revises: 0018
Create Date: 2026-12-01 17:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0035"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("invitation_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_documents_invitation_id"), ["invitation_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_documents_invitation_id_invitations"),
            "invitations",
            ["invitation_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade():
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_documents_invitation_id_invitations"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_documents_invitation_id"))
        batch_op.drop_column("invitation_id")
