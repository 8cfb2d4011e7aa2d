"""The few statements whose spelling differs between SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

from plinth.db.engine import Database
from plinth.db.prepared import Prepared


def _insert(database: Database, table: Any) -> Any:
    if database.is_postgres:
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table)


def insert_ignoring_conflicts(database: Database, table: Any) -> Any:
    """``INSERT ... ON CONFLICT DO NOTHING``, built once per database and table (reusing the
    statement object spares SQLAlchemy its cache-key work on every execution)."""
    key = ("insert-ignoring-conflicts", table.name)
    statement = database.caches.get(key)
    if statement is None:
        statement = database.caches[key] = _insert(database, table).on_conflict_do_nothing()
    return statement


def upsert(database: Database, table: Any, keys: list[str], changing: list[str]) -> Any:
    """``INSERT ... ON CONFLICT (keys) DO UPDATE SET changing = excluded.changing``, built
    once per database and shape."""
    key = ("upsert", table.name, tuple(keys), tuple(changing))
    statement = database.caches.get(key)
    if statement is None:
        insert = _insert(database, table)
        statement = database.caches[key] = insert.on_conflict_do_update(
            index_elements=keys, set_={name: insert.excluded[name] for name in changing}
        )
    return statement


def prepared(database: Database, key: Hashable, build: Callable[[], Any]) -> Prepared:
    """A hot-path statement (see ``db.prepared``), built once per database by ``build``."""
    statement = database.caches.get(("prepared", key))
    if statement is None:
        statement = database.caches[("prepared", key)] = Prepared(build())
    assert isinstance(statement, Prepared)
    return statement


def one_writer_at_a_time(database: Database, conn: Any, name: str) -> None:
    """Hold a lock named ``name`` until ``conn``'s transaction ends, for checks that read
    before they write (no file where a folder is): on PostgreSQL at read-committed two
    such transactions could both pass. SQLite already runs one write at a time."""
    if database.is_postgres:
        from sqlalchemy import text

        conn.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:name, 0))"), {"name": name}
        )
