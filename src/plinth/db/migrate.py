"""Alembic, driven from code: the server upgrades on start, ``plinth db upgrade`` by hand."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text

from plinth.db.engine import Database

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
SCHEMA_REVISION = "0007"
"""The newest migration. Checked against Alembic's own head by a test, and compared with the
database without importing Alembic (a second and a half on a small machine) on every start."""


def alembic_config(database: Database) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["database"] = database
    return config


def upgrade(database: Database, revision: str = "head") -> None:
    """Bring the schema to ``revision`` (idempotent; safe on every start)."""
    from alembic import command

    command.upgrade(alembic_config(database), revision)


def current_revision(database: Database) -> str | None:
    """The database's schema revision (None for an empty database), read with plain SQL."""
    with database.engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()
    assert head is not None
    return head


def upgrade_if_needed(database: Database) -> None:
    """Upgrade only when behind (cheaper than running Alembic's machinery every time).
    Processes that start together (server workers, scripts in local mode) take turns."""
    head = SCHEMA_REVISION
    if current_revision(database) == head:
        return
    with _migration_lock(database):
        if current_revision(database) != head:
            upgrade(database)


_LOCK_ID = 0x706C696E  # "plin": the advisory lock plinth's migrations take on PostgreSQL


@contextmanager
def _migration_lock(database: Database) -> Iterator[None]:
    if database.is_postgres:
        with database.engine.connect() as conn:
            conn.exec_driver_sql(f"SELECT pg_advisory_lock({_LOCK_ID})")
            try:
                yield
            finally:
                conn.exec_driver_sql(f"SELECT pg_advisory_unlock({_LOCK_ID})")
        return
    path = database.url.database
    if not database.is_sqlite or not path or path == ":memory:":
        yield
        return
    with open(f"{path}.migrate-lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
