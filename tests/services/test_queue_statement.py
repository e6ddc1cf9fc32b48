"""The queue's page statement compiled once and executed on the driver: the same rows, the
same Python values as SQLAlchemy's own execution, whatever the lengths of its lists."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import bindparam, select

from datapass import workflow
from datapass.models import AuthorizationRequest
from datapass.services import queue as queue_service
from datapass.services.queue_statement import CompiledSelect
from tests.support.authorization_requests import submitted_request
from tests.support.queries import page_statements

QUEUE = "/instruction/tableau-de-bord/demandes"


def _statement():
    return (
        select(
            AuthorizationRequest.id,
            AuthorizationRequest.state,
            AuthorizationRequest.last_submitted_at,
            AuthorizationRequest.reopened_at,
        )
        .where(
            AuthorizationRequest.state.in_(bindparam("states", expanding=True)),
            AuthorizationRequest.last_submitted_at
            > bindparam("since", type_=AuthorizationRequest.last_submitted_at.type),
        )
        .order_by(AuthorizationRequest.id)
    )


def test_a_compiled_select_gives_what_sqlalchemy_gives(app, db):
    submitted = submitted_request()
    changes = submitted_request()
    changes.state = workflow.CHANGES_REQUESTED
    db.session.commit()
    statement = _statement()
    connection = db.session.connection()
    compiled = CompiledSelect(statement, connection.dialect)
    since = datetime.now(UTC) - timedelta(days=1)
    for states in (
        [workflow.SUBMITTED],
        [workflow.SUBMITTED, workflow.CHANGES_REQUESTED],
        [workflow.REFUSED, workflow.SUBMITTED, workflow.CHANGES_REQUESTED],
        [workflow.SUBMITTED],
    ):
        params = {"states": states, "since": since}
        expected = [tuple(row) for row in connection.execute(statement, params)]
        got = [tuple(row) for row in compiled.rows(connection, params)]
        assert got == expected
        assert expected  # the rows themselves, not two empty lists
        # Aware UTC dates, as UTCDateTime gives them; None stays None.
        assert all(row[2].tzinfo is UTC and row[3] is None for row in got)
    # One SQL layout per length of the list, kept.
    assert len(compiled._layouts) == 3
    # The bound date goes through its type (UTCDateTime: naive UTC on the driver).
    later = {"states": [workflow.SUBMITTED], "since": datetime.now(UTC) + timedelta(days=1)}
    assert compiled.rows(connection, later) == []
    assert {row[0] for row in compiled.rows(connection, {**later, "since": since})} == {
        submitted.id
    }


def test_queue_pages_run_the_compiled_statement_on_the_driver(client, db, login_as):
    login_as(roles=["api_particulier:instructor"])
    created = [submitted_request() for _ in range(3)]
    queue_service._PAGE_STATEMENTS.clear()
    statements = page_statements(client, f"{QUEUE}?etat=submitted&tri=recent")
    (page,) = [s for s in statements if "FROM authorization_requests" in s]
    (compiled,) = queue_service._PAGE_STATEMENTS.values()
    assert isinstance(compiled, CompiledSelect)
    # The statement executed is the one laid out once (still seen by the engine's events).
    assert [sql for sql, _ in compiled._layouts.values()] == [page]
    criteria = queue_service.QueueCriteria(definitions=["api_particulier"], sort="recent")
    rows = queue_service.queue_page(criteria).rows
    assert [row.id for row in rows] == [r.id for r in reversed(created)]
    for row, request in zip(rows, reversed(created), strict=True):
        assert row.last_submitted_at == request.last_submitted_at
        assert row.last_submitted_at.tzinfo is UTC
        assert row.decision_deadline == request.decision_deadline
        assert row.unread_messages is False and row.answered_changes is False


def test_the_page_limit_is_written_in_the_sql(client, db, login_as):
    """Not a parameter: PostgreSQL then plans the prepared statement once (a generic plan)
    rather than at every page (measured on the bench's data, docs/performance.md: with a
    few rows, as here, both plans cost the same and PostgreSQL keeps either)."""
    login_as(roles=["api_particulier:instructor"])
    submitted_request()
    statements = page_statements(client, f"{QUEUE}?etat=submitted&tri=recent")
    (page,) = [s for s in statements if "FROM authorization_requests" in s]
    assert f"LIMIT {queue_service.PAGE_SIZE + 1}" in page
