"""Lifecycle: the periodic tasks' lease rows; the CRPA decision deadline

The deadline of the requests already submitted is two months after their last submission.

Revision ID: 0012
Revises: 0010
Create Date: 2026-12-01 13:20:00

"""
import calendar

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
    with op.batch_alter_table('authorization_requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('decision_deadline', sa.DateTime(), nullable=True))
        batch_op.create_index(
            'ix_authorization_requests_deadline', ['decision_deadline', 'id'], unique=False
        )
        batch_op.create_index(
            'ix_authorization_requests_state_deadline',
            ['state', 'decision_deadline', 'id'],
            unique=False,
        )
    with op.batch_alter_table('instructor_notification_settings', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                'notify_deadline_digest', sa.Boolean(), server_default='1', nullable=False
            )
        )
    requests = sa.table(
        'authorization_requests',
        sa.column('id', sa.Integer),
        sa.column('last_submitted_at', sa.DateTime),
        sa.column('decision_deadline', sa.DateTime),
    )
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(requests.c.id, requests.c.last_submitted_at).where(
            requests.c.last_submitted_at.is_not(None)
        )
    ).all()
    for request_id, submitted_at in rows:
        connection.execute(
            requests.update()
            .where(requests.c.id == request_id)
            .values(decision_deadline=_deadline(submitted_at))
        )


def _deadline(submitted_at):
    """workflow.decision_deadline, frozen here: two calendar months later."""
    month_index = submitted_at.month - 1 + 2
    year, month = submitted_at.year + month_index // 12, month_index % 12 + 1
    day = min(submitted_at.day, calendar.monthrange(year, month)[1])
    return submitted_at.replace(year=year, month=month, day=day)


def downgrade():
    with op.batch_alter_table('instructor_notification_settings', schema=None) as batch_op:
        batch_op.drop_column('notify_deadline_digest')
    with op.batch_alter_table('authorization_requests', schema=None) as batch_op:
        batch_op.drop_index('ix_authorization_requests_state_deadline')
        batch_op.drop_index('ix_authorization_requests_deadline')
        batch_op.drop_column('decision_deadline')
    op.drop_table('periodic_tasks')
