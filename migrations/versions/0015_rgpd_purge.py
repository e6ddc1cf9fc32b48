"""Requests: when the RGPD purge anonymised them

``authorization_requests.purged_at``: null until the purge (services/purge.py) anonymised the
request; a purged request is never purged again nor a source of remembered contacts.

Revision ID: 0015
Revises: 0021 (re-chained at the merge)
Create Date: 2026-12-01 14:45:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015'
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('authorization_requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('purged_at', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('authorization_requests', schema=None) as batch_op:
        batch_op.drop_column('purged_at')
