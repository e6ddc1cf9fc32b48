"""Délibérations' text analysis per document; requests followed by instructors

``documents.text_state`` / ``text_sections``: the text extracted from an uploaded
délibération by the worker (docs/instruction.md). ``request_follows``: « Marquer comme
suivie ».

Revision ID: 0014
Revises: 0022
Create Date: 2026-12-01 14:30:00.000000

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = "0022"  # re-chained after merging main (0022_invitations)
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('text_state', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column(
            'text_sections',
            sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'),
            nullable=True,
        ))
    op.create_table(
        'request_follows',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('authorization_request_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ['authorization_request_id'], ['authorization_requests.id'],
            name=op.f('fk_request_follows_authorization_request_id_authorization_requests'),
            ondelete='CASCADE',
        ),
        sa.ForeignKeyConstraint(
            ['user_id'], ['users.id'],
            name=op.f('fk_request_follows_user_id_users'), ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_request_follows')),
        sa.UniqueConstraint(
            'user_id', 'authorization_request_id',
            name=op.f('uq_request_follows_user_id'),
        ),
    )
    with op.batch_alter_table('request_follows', schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f('ix_request_follows_authorization_request_id'),
            ['authorization_request_id'], unique=False,
        )
        batch_op.create_index(batch_op.f('ix_request_follows_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('request_follows', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_request_follows_user_id'))
        batch_op.drop_index(batch_op.f('ix_request_follows_authorization_request_id'))
    op.drop_table('request_follows')
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.drop_column('text_sections')
        batch_op.drop_column('text_state')
