#!/usr/bin/env python3
"""Physical reference for metric logging: bare ``sqlite3`` with no tracking server.

Measures what the disk and SQLite can do for the tracking workload, as described in
``shared/bench/README.md``: Python's ``sqlite3`` ``executemany`` of N (default 1,000,000)
``(run, key, step, ts, value)`` rows into a WAL-mode database whose table has a primary key
``(run, key, step)``, in one transaction, reported as rows/s (median of ``--reps``, default 3,
each into a fresh database file); then reading ``--read-rows`` (default 100,000) rows of one
``(run, key)`` back in step order, as ``get_metric_history`` would (median latency).

Rows are laid out as ``rows // read_rows`` runs of one key ``"m"`` with ``read_rows`` steps each,
so the read-back is one full metric history.

    python bench/bare_sqlite.py                      # JSON on stdout
    python bench/bare_sqlite.py --rows 200000 --out results/bare_sqlite.json

Pure standard library.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

Row = tuple[str, str, int, int, float]

SCHEMA = (
    "CREATE TABLE metrics ("
    " run TEXT NOT NULL, key TEXT NOT NULL, step INTEGER NOT NULL,"
    " ts INTEGER NOT NULL, value REAL NOT NULL,"
    " PRIMARY KEY (run, key, step))"
)
READ_SQL = "SELECT step, ts, value FROM metrics WHERE run = ? AND key = ? ORDER BY step"


def make_rows(n_rows: int, per_run: int, seed: int) -> list[Row]:
    """Build ``n_rows`` rows: runs ``r0000..`` of one key ``m`` with ``per_run`` steps each."""
    rng = random.Random(seed)
    ts0 = int(time.time() * 1000)
    return [
        (f"r{i // per_run:04d}", "m", i % per_run, ts0 + i, rng.random()) for i in range(n_rows)
    ]


def _stats(values: list[float]) -> dict[str, float | int | list[float]]:
    """Median / min / max / n of a list of numbers."""
    v = sorted(values)
    return {
        "median": statistics.median(v),
        "min": v[0],
        "max": v[-1],
        "n": len(v),
        "values": [round(x, 6) for x in v],
    }


def _connect(path: Path) -> sqlite3.Connection:
    """Open ``path`` in WAL mode, leaving every other setting at SQLite's default."""
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    return con


def write_once(path: Path, rows: list[Row]) -> float:
    """Create a fresh database at ``path``, insert ``rows`` in one transaction; return seconds."""
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    con = _connect(path)
    try:
        con.execute(SCHEMA)
        t0 = time.perf_counter()
        con.execute("BEGIN")
        con.executemany("INSERT INTO metrics VALUES (?, ?, ?, ?, ?)", rows)
        con.execute("COMMIT")
        return time.perf_counter() - t0
    finally:
        con.close()


def read_once(path: Path, run: str, key: str) -> tuple[float, int]:
    """Read one metric history back on a new connection; return (seconds, rows read)."""
    con = _connect(path)
    try:
        t0 = time.perf_counter()
        got = con.execute(READ_SQL, (run, key)).fetchall()
        return time.perf_counter() - t0, len(got)
    finally:
        con.close()


def _pragmas(path: Path) -> dict[str, object]:
    """The settings in force, for the record."""
    con = _connect(path)
    try:
        names = ("journal_mode", "synchronous", "page_size", "cache_size")
        return {n: con.execute(f"PRAGMA {n}").fetchone()[0] for n in names}
    finally:
        con.close()


def run(n_rows: int, read_rows: int, reps: int, workdir: Path, seed: int) -> dict[str, object]:
    """Run the write and read measurements; return the result document."""
    if read_rows > n_rows:
        raise ValueError("--read-rows must not exceed --rows")
    rows = make_rows(n_rows, read_rows, seed)
    db = workdir / "bare.db"
    write_s: list[float] = []
    for rep in range(reps):
        dt = write_once(db, rows)
        write_s.append(dt)
        print(
            f"  write rep{rep}: {n_rows} rows in {dt:.3f}s = {n_rows / dt:,.0f} rows/s",
            file=sys.stderr,
            flush=True,
        )
    read_s: list[float] = []
    n_read = 0
    for rep in range(reps):
        dt, n_read = read_once(db, "r0000", "m")
        read_s.append(dt)
        print(f"  read rep{rep}: {n_read} rows in {dt:.3f}s", file=sys.stderr, flush=True)
    size = sum(os.path.getsize(str(db) + s) for s in ("", "-wal") if os.path.exists(str(db) + s))
    return {
        "benchmark": "bare_sqlite",
        "started": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "rows": n_rows,
        "read_rows": n_read,
        "reps": reps,
        "schema": SCHEMA,
        "pragmas": _pragmas(db),
        "db_bytes": size,
        "write_rows_per_s": _stats([n_rows / s for s in write_s]),
        "write_s": _stats(write_s),
        "read_s": _stats(read_s),
        "read_rows_per_s": _stats([n_read / s for s in read_s]),
    }


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run, print JSON (and write it to ``--out`` if given)."""
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--rows", type=int, default=1_000_000, help="rows written per repetition")
    ap.add_argument(
        "--read-rows", type=int, default=100_000, help="rows of one (run, key) read back"
    )
    ap.add_argument("--reps", type=int, default=3, help="repetitions (median reported)")
    ap.add_argument(
        "--dir",
        type=Path,
        default=None,
        help="directory for the database (default: a temporary one, removed after)",
    )
    ap.add_argument("--out", type=Path, default=None, help="also write the JSON here")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    if a.dir is not None:
        a.dir.mkdir(parents=True, exist_ok=True)
        res = run(a.rows, a.read_rows, a.reps, a.dir, a.seed)
    else:
        with tempfile.TemporaryDirectory(prefix="bare-sqlite-") as d:
            res = run(a.rows, a.read_rows, a.reps, Path(d), a.seed)
    text = json.dumps(res, indent=2)
    print(text)
    if a.out is not None:
        a.out.parent.mkdir(parents=True, exist_ok=True)
        a.out.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
