"""Lifecycle: the periodic tasks' lease rows

Revision ID: 0012
Revises: 0010
Create Date: 2026-12-01 13:20:00

"""
from alembic import op
import sqlalchemy as sa



# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'periodic_tasks',
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('last_period', sa.String(length=40), nullable=True),
        sa.Column('last_run_at', sa.DateTime(), nullable=True),
        sa.Column('last_status', sa.String(length=16), nullable=True),
        sa.Column('last_result', sa.Text(), nullable=True),
        sa.Column('locked_at', sa.DateTime(), nullable=True),
        sa.Column('locked_by', sa.String(length=80), nullable=True),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_periodic_tasks')),
    )


def downgrade():
    op.drop_table('periodic_tasks')
