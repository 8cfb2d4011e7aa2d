"""Who references blobs, and how a writer keeps a blob from being collected while it is
about to reference it.

* Every column declared with ``info=BLOB_REFERENCE`` (``db/tables/artifacts.py``) holds
  digests of blobs in use: run manifests today, model versions or anything else tomorrow.
  A component that references blobs marks its column and indexes it; nothing else to do.
* An upload pins its digest (a ``blob_pins`` row) before it publishes the blob and drops
  the pin in the transaction that writes the manifest row. Pin and collection take one
  lock (PostgreSQL: an advisory lock, shared by pinners, exclusive for the collector;
  SQLite: the write transaction itself), so a pin is either seen by the collector, or made
  after the collector has finished deleting, in which case publishing writes the blob anew.
* A writer that copies digests it read elsewhere into its own table should take
  ``lock_blobs(conn, database)`` in that write transaction for the same reason.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Column, Connection, delete, select

from plinth.db.engine import Database
from plinth.db.tables import all_tables
from plinth.db.tables.artifacts import BLOB_REFERENCE, blob_pins
from plinth.entities.common import new_id, now_ms

PIN_LIFETIME_MS = 24 * 3600 * 1000
"""A pin older than this belongs to a writer that died; the collector drops it."""
_LOCK_ID = 0x706C6962  # "plib": the advisory lock between pinning and collecting blobs


def referencing_columns() -> list[Column[str]]:
    """Every column, in every component's tables, that holds digests of blobs in use."""
    return [
        column
        for table in all_tables().sorted_tables
        for column in table.columns
        if column.info.get(next(iter(BLOB_REFERENCE)))
    ]


def lock_blobs(conn: Connection, database: Database, *, exclusive: bool = False) -> None:
    """Take the blob lock for the rest of ``conn``'s write transaction."""
    if database.is_postgres:
        function = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
        conn.exec_driver_sql(f"SELECT {function}({_LOCK_ID})")
    # SQLite: a write transaction (BEGIN IMMEDIATE) already excludes every other writer.


def pin(database: Database, digest: str) -> str:
    """Protect a blob that is about to be referenced; returns the pin's token."""
    token = new_id()
    with database.write() as conn:
        lock_blobs(conn, database)
        conn.execute(blob_pins.insert().values(token=token, digest=digest, created_at=now_ms()))
    return token


def unpin(conn: Connection, token: str) -> None:
    conn.execute(delete(blob_pins).where(blob_pins.c.token == token))


def drop_expired_pins(database: Database, now: int) -> None:
    with database.write() as conn:
        conn.execute(delete(blob_pins).where(blob_pins.c.created_at < now - PIN_LIFETIME_MS))


def referenced(conn: Connection, digests: Sequence[str]) -> set[str]:
    """Those of ``digests`` that some manifest (or pin) references."""
    found: set[str] = set()
    wanted = list(digests)
    for column in referencing_columns():
        if not wanted:
            break
        rows = conn.execute(select(column).where(column.in_(wanted)).distinct())
        found.update(row[0] for row in rows)
        wanted = [digest for digest in wanted if digest not in found]
    return found
