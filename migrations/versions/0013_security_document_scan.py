"""Documents: when the malware scan ran and what it found

``documents.scan_state`` existed already (null: not scanned); the scan now records its time
and, for a dangerous file, the scanner's name for the threat.

Revision ID: 0013
Revises: 0010
Create Date: 2026-12-01 13:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('scanned_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('scan_threat', sa.String(length=120), nullable=True))


def downgrade():
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.drop_column('scan_threat')
        batch_op.drop_column('scanned_at')
