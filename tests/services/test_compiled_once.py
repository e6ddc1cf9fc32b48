"""A statement built once, executed with its own identity-keyed compiled cache
(datapass/services/compiled_once.py): compiled once per dialect, then found without hashing
its cache key; the same rows and the same statements as through the engine's cache."""

from __future__ import annotations

from sqlalchemy import bindparam, create_engine, select

from datapass.models import User
from datapass.services import request_page
from datapass.services.compiled_once import CompiledOnce, IdentityCompiledCache
from tests.factories import UserFactory
from tests.support.queries import recorded_statements


def test_a_statement_is_compiled_once_then_found_by_identity(db):
    users = [(user.id, user.email) for user in (UserFactory(), UserFactory())]
    db.session.commit()
    statement = CompiledOnce(select(User.email).where(User.id == bindparam("id")))
    connection = db.session.connection()
    with recorded_statements() as statements:
        results = [statement.execute(connection, {"id": id_}) for id_, _ in users * 2]
        emails = [result.scalar_one() for result in results]
    assert emails == [email for _, email in users * 2]
    assert len(statements) == 4  # each execution reaches the database (and the counter)
    compiled = {id(result.context.compiled) for result in results}
    assert len(compiled) == 1  # compiled at the first execution only
    assert len(statement._options["compiled_cache"]) == 1


def test_another_dialect_compiles_its_own(db):
    statement = CompiledOnce(select(User.id).where(User.id == bindparam("id")))
    statement.execute(db.session.connection(), {"id": 0})
    other = create_engine("sqlite://")
    User.metadata.create_all(other, tables=[User.__table__])
    with other.connect() as connection:
        assert statement.execute(connection, {"id": 0}).all() == []
    assert len(statement._options["compiled_cache"]) == 2


def test_a_key_that_is_not_the_same_object_misses():
    cache = IdentityCompiledCache()
    dialect, cache_key = object(), (("select", "users"),)
    cache[(dialect, cache_key, (), False, False)] = "compiled"
    assert cache.get((dialect, cache_key, (), False, False)) == "compiled"
    equal = tuple(item for item in cache_key)  # equal, not the same object
    assert equal == cache_key and equal is not cache_key
    assert cache.get((dialect, equal, (), False, False)) is None
    assert cache.get((dialect, cache_key, ("id",), False, False)) is None
    assert cache.get((object(), cache_key, (), False, False)) is None


def test_the_request_pages_rows_name_the_lists_columns():
    """``ListRow`` reads the lists' statement by position: its fields are its columns."""
    statement = request_page._lists_statement(2).statement
    assert request_page.ListRow._fields == tuple(statement.selected_columns.keys())
