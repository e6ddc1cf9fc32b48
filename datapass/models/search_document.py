"""The free-text search index: one normalised document per request (datapass/search_text.py).

Both engines keep the documents in ``authorization_request_search``; the index differs:
PostgreSQL indexes the column with a pg_trgm GIN index; SQLite mirrors it, through triggers,
into an FTS5 table with the trigram tokenizer (external content: the text is stored once).
Both answer ``LIKE '%…%'`` from the index. The DDL here serves ``create_all`` (tests) and the
migration alike.
"""

from __future__ import annotations

from sqlalchemy import DDL, Column, ForeignKey, Index, Table, Text, column, event, table

from datapass.extensions import db

TABLE = "authorization_request_search"
FTS_TABLE = "authorization_request_search_fts"
TRIGRAM_INDEX = "ix_authorization_request_search_trigram"

search_documents = Table(
    TABLE,
    db.metadata,
    Column(
        "authorization_request_id",
        ForeignKey("authorization_requests.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("document", Text, nullable=False),
)
Index(
    TRIGRAM_INDEX,
    search_documents.c.document,
    postgresql_using="gin",
    postgresql_ops={"document": "gin_trgm_ops"},
).ddl_if(dialect="postgresql")

# SQLite's FTS5 mirror (rowid = the request's id), for queries only.
fts_documents = table(FTS_TABLE, column("rowid"), column("document"))

POSTGRESQL_BEFORE = ["CREATE EXTENSION IF NOT EXISTS pg_trgm"]
SQLITE_AFTER = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS authorization_request_search_fts USING fts5(document, "
    "content='authorization_request_search', content_rowid='authorization_request_id', "
    "tokenize='trigram')",
    "CREATE TRIGGER IF NOT EXISTS authorization_request_search_inserted AFTER INSERT ON "
    "authorization_request_search BEGIN "
    "INSERT INTO authorization_request_search_fts (rowid, document) "
    "VALUES (new.authorization_request_id, new.document); END",
    "CREATE TRIGGER IF NOT EXISTS authorization_request_search_deleted AFTER DELETE ON "
    "authorization_request_search BEGIN "
    "INSERT INTO authorization_request_search_fts (authorization_request_search_fts, rowid, "
    "document) VALUES ('delete', old.authorization_request_id, old.document); END",
    "CREATE TRIGGER IF NOT EXISTS authorization_request_search_updated AFTER UPDATE ON "
    "authorization_request_search BEGIN "
    "INSERT INTO authorization_request_search_fts (authorization_request_search_fts, rowid, "
    "document) VALUES ('delete', old.authorization_request_id, old.document); "
    "INSERT INTO authorization_request_search_fts (rowid, document) "
    "VALUES (new.authorization_request_id, new.document); END",
]
SQLITE_DROP = ["DROP TABLE IF EXISTS authorization_request_search_fts"]


def is_index_object(name: str | None, type_: str) -> bool:
    """Schema comparisons (Alembic) skip what SQLAlchemy's metadata cannot describe: the
    FTS5 table and its shadow tables, and the PostgreSQL-only trigram index."""
    if type_ == "table" and name and name.startswith(FTS_TABLE):
        return True
    return type_ == "index" and name == TRIGRAM_INDEX


for statement in POSTGRESQL_BEFORE:
    event.listen(search_documents, "before_create", DDL(statement).execute_if(dialect="postgresql"))
for statement in SQLITE_AFTER:
    event.listen(search_documents, "after_create", DDL(statement).execute_if(dialect="sqlite"))
for statement in SQLITE_DROP:
    event.listen(search_documents, "after_drop", DDL(statement).execute_if(dialect="sqlite"))
