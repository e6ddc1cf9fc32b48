"""The queue's walk indexes cover its filters; an index for the sort by state

Each sort of the instruction queue walks an index and stops after one page; the columns the
queue filters on (state, definition, submission date) are now in each walk's index, so the
walk reads the index alone instead of each visited request's row (a request's row holds its
answers: a few kilobytes). The sort by state (« État ») gets its own index, by state then
number: it sorted every matching request at each page.

Revision ID: 0036
Revises: 0035
Create Date: 2026-12-02 02:45:00.000000

"""

from alembic import op


# revision identifiers, used by Alembic.
revision = "0036"
down_revision = "0035"
branch_labels = None
depends_on = None

TABLE = "authorization_requests"
# name: (columns before, columns after)
INDEXES = {
    "ix_authorization_requests_last_submitted": (
        ["last_submitted_at", "id"],
        ["last_submitted_at", "id", "state", "definition_id"],
    ),
    "ix_authorization_requests_state_submitted": (
        ["state", "last_submitted_at", "id"],
        ["state", "last_submitted_at", "id", "definition_id"],
    ),
    "ix_authorization_requests_deadline": (
        ["decision_deadline", "id"],
        ["decision_deadline", "id", "state", "definition_id", "last_submitted_at"],
    ),
    "ix_authorization_requests_state_deadline": (
        ["state", "decision_deadline", "id"],
        ["state", "decision_deadline", "id", "definition_id", "last_submitted_at"],
    ),
}
STATE_ID = "ix_authorization_requests_state_id"
STATE_ID_COLUMNS = ["state", "id", "last_submitted_at", "definition_id"]


def upgrade():
    for name, (_, after) in INDEXES.items():
        op.drop_index(name, table_name=TABLE)
        op.create_index(name, TABLE, after, unique=False)
    op.create_index(STATE_ID, TABLE, STATE_ID_COLUMNS, unique=False)


def downgrade():
    op.drop_index(STATE_ID, table_name=TABLE)
    for name, (before, _) in INDEXES.items():
        op.drop_index(name, table_name=TABLE)
        op.create_index(name, TABLE, before, unique=False)
