"""The SQLite settings every plinth connection runs with (db/engine.py says why each)."""

from __future__ import annotations

from pathlib import Path

from plinth.db.engine import Database


def test_every_sqlite_connection_gets_the_settings(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path}/plinth.db", sqlite_synchronous="FULL")
    try:
        with database.engine.connect() as conn:
            value = {
                name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
                for name in (
                    "journal_mode",
                    "synchronous",
                    "busy_timeout",
                    "foreign_keys",
                    "wal_autocheckpoint",
                    "journal_size_limit",
                )
            }
    finally:
        database.dispose()
    assert value == {
        "journal_mode": "wal",
        "synchronous": 2,  # FULL, as asked
        "busy_timeout": 60_000,
        "foreign_keys": 1,
        "wal_autocheckpoint": 10_000,
        "journal_size_limit": 64 * 1024 * 1024,
    }
