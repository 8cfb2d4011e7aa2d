"""Planner statistics for tables that have never had any (PostgreSQL).

Right after a bulk import PostgreSQL has no statistics for the freshly filled tables until
autovacuum gets to them (up to a minute): it then guesses one row everywhere and can pick a
nested loop that probes an index once per run (a search over 1,000 runs took 400 ms instead
of 8 ms). A search first makes sure its tables were analyzed at least once; the check is one
catalog query, made at most every ``CHECK_EVERY_S`` seconds per process.
"""

from __future__ import annotations

import threading
import time

from sqlalchemy import bindparam, text

from plinth.db.engine import Database

SEARCH_TABLES = ("runs", "params", "run_tags", "metric_series", "run_inputs", "datasets")
"""The tables a run search reads (fixed names: nothing from a user reaches ANALYZE)."""

MIN_BYTES = 64 * 1024
"""A smaller table (a few hundred rows) is fast under any plan: not worth an ANALYZE."""

CHECK_EVERY_S = 60.0

# reltuples is -1 until a table's first ANALYZE or VACUUM; its size on disk is current at
# once (the activity counters in pg_stat_* reach other sessions only after a delay).
_NEVER_ANALYZED = text(
    "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
    " WHERE n.nspname = current_schema() AND c.relname IN :tables AND c.reltuples < 0"
    " AND pg_relation_size(c.oid) >= :min_bytes"
).bindparams(bindparam("tables", expanding=True))
_CHECKED_AT = "statistics-checked-at"
_lock = threading.Lock()


def ensure_statistics(database: Database, tables: tuple[str, ...] = SEARCH_TABLES) -> list[str]:
    """ANALYZE the ``tables`` that have enough rows and no statistics yet; the names."""
    if not database.is_postgres:
        return []
    now = time.monotonic()
    with _lock:
        if now - database.caches.get(_CHECKED_AT, -CHECK_EVERY_S) < CHECK_EVERY_S:
            return []
        database.caches[_CHECKED_AT] = now
    with database.engine.connect() as conn:
        missing = [
            name
            for name in conn.execute(
                _NEVER_ANALYZED, {"tables": list(tables), "min_bytes": MIN_BYTES}
            ).scalars()
            if name in tables
        ]
        if missing:
            conn.exec_driver_sql("ANALYZE " + ", ".join(missing))
        conn.commit()
    return missing
