"""The few statements whose spelling differs between SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from plinth.db.engine import Database


def _insert(database: Database, table: Any) -> Any:
    if database.is_postgres:
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table)


def insert_ignoring_conflicts(database: Database, table: Any) -> Any:
    """``INSERT ... ON CONFLICT DO NOTHING``."""
    return _insert(database, table).on_conflict_do_nothing()


def upsert(database: Database, table: Any, keys: list[str], changing: list[str]) -> Any:
    """``INSERT ... ON CONFLICT (keys) DO UPDATE SET changing = excluded.changing``."""
    statement = _insert(database, table)
    return statement.on_conflict_do_update(
        index_elements=keys, set_={name: statement.excluded[name] for name in changing}
    )
