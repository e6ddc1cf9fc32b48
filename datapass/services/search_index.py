"""Keep the free-text search index up to date, in the transaction of every write.

``refresh(authorization_request)`` rewrites one request's document; ``install()`` (called by
``create_app``) makes every flush call it for the requests whose indexed fields changed:
answers, intitulé, organisation, applicant, and for every request of an organisation whose
name changed or of an applicant whose email or names changed. The documents are written
with the flush's own connection, so a rolled-back change leaves the index as it was. A
deleted request's document goes with it (ON DELETE CASCADE). ``rebuild()`` rewrites them
all (after bulk loads; the migration builds them for existing rows).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, event, inspect, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from datapass import search_text
from datapass.extensions import db
from datapass.models import AuthorizationRequest, Organization, User
from datapass.models.search_document import fts_documents, search_documents

REQUEST_FIELDS = ("data", "intitule", "organization_id", "applicant_id")
ORGANIZATION_FIELDS = ("name",)
USER_FIELDS = ("email", "given_name", "family_name")
BATCH = 1000


def matching_ids(text: str):
    """The ids of the requests whose document contains ``text`` (both normalised): a
    subquery answered from the index (SQLite's FTS5 table, PostgreSQL's trigram index).

    Like the search before the index, a query is a substring: « quill » finds
    « Quillebeuf »; unlike it, accents, ligatures and case never matter, and only values
    are searched, never the answers' keys nor JSON's punctuation."""
    pattern = search_text.like_pattern(search_text.normalize(text))
    # The index answers LIKE without ESCAPE only; an escaped pattern still finds the rows.
    escape = "\\" if any(c in text for c in "%_\\") else None
    if db.session.get_bind().dialect.name == "sqlite":
        return select(fts_documents.c.rowid).where(
            fts_documents.c.document.like(pattern, escape=escape)
        )
    return select(search_documents.c.authorization_request_id).where(
        search_documents.c.document.like(pattern, escape=escape)
    )


def _documents_query():
    return (
        select(
            AuthorizationRequest.id,
            AuthorizationRequest.data,
            AuthorizationRequest.intitule,
            Organization.name,
            User.email,
            User.given_name,
            User.family_name,
        )
        .join(Organization, Organization.id == AuthorizationRequest.organization_id)
        .join(User, User.id == AuthorizationRequest.applicant_id)
        # A purged request is never indexed again (services/purge.py forgets its document).
        .where(AuthorizationRequest.purged_at.is_(None))
    )


def _write(connection: Connection, rows: Iterable) -> int:
    values = [
        {
            "authorization_request_id": row.id,
            "document": search_text.document(
                organization_name=row.name,
                intitule=row.intitule,
                applicant=(row.email, row.given_name, row.family_name),
                data=row.data,
            ),
        }
        for row in rows
    ]
    if not values:
        return 0
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(search_documents)
    statement = statement.on_conflict_do_update(
        index_elements=[search_documents.c.authorization_request_id],
        set_={"document": statement.excluded.document},
    )
    connection.execute(statement, values)
    return len(values)


def _refresh_where(connection: Connection, *conditions) -> int:
    return _write(connection, connection.execute(_documents_query().where(*conditions)).all())


def refresh(
    authorization_request: AuthorizationRequest, connection: Connection | None = None
) -> None:
    """Rewrite the document of one request (flushed), in the current transaction."""
    connection = connection or db.session.connection()
    _refresh_where(connection, AuthorizationRequest.id == authorization_request.id)


def forget(authorization_request_ids: Iterable[int], connection: Connection | None = None) -> None:
    """Drop the documents of these requests (a purge that keeps the rows, e.g. anonymised)."""
    connection = connection or db.session.connection()
    connection.execute(
        delete(search_documents).where(
            search_documents.c.authorization_request_id.in_(list(authorization_request_ids))
        )
    )


def rebuild(connection: Connection | None = None) -> int:
    """Rewrite every document, by batches of ids (no commit)."""
    connection = connection or db.session.connection()
    written, after = 0, 0
    while True:
        rows = connection.execute(
            _documents_query()
            .where(AuthorizationRequest.id > after)
            .order_by(AuthorizationRequest.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return written
        written += _write(connection, rows)
        after = rows[-1].id


def _changed(instance, fields: tuple[str, ...]) -> bool:
    state = inspect(instance)
    return any(state.attrs[name].history.has_changes() for name in fields)


def _after_flush(session: Session, _context) -> None:
    requests, organizations, users = set(), set(), set()
    for instance in session.new:
        if isinstance(instance, AuthorizationRequest):
            requests.add(instance.id)
    for instance in session.dirty:
        if isinstance(instance, AuthorizationRequest) and _changed(instance, REQUEST_FIELDS):
            requests.add(instance.id)
        elif isinstance(instance, Organization) and _changed(instance, ORGANIZATION_FIELDS):
            organizations.add(instance.id)
        elif isinstance(instance, User) and _changed(instance, USER_FIELDS):
            users.add(instance.id)
    if not (requests or organizations or users):
        return
    connection = session.connection()
    if requests:
        _refresh_where(connection, AuthorizationRequest.id.in_(requests))
    if organizations:
        _refresh_where(connection, AuthorizationRequest.organization_id.in_(organizations))
    if users:
        _refresh_where(connection, AuthorizationRequest.applicant_id.in_(users))


def install() -> None:
    """Refresh the index at every flush that changes what it holds (once per process)."""
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "after_flush", _after_flush)
