#!/usr/bin/env python3
"""Markdown table of the anchor results written by ``run_anchors.sh``.

    python bench/anchors/summarize_anchors.py RESULTS_DIR > RESULTS_DIR/summary.md

Reads ``<anchor>.json``, ``<anchor>_search_10k.json``, ``<anchor>_server.json``,
``<anchor>_mem_{idle,after}.json`` for the anchors ``mlflow`` and ``fasttrackml`` and
``bare_sqlite.json``; prints medians (with min-max and n) side by side. Pure stdlib.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ANCHORS = ("mlflow", "fasttrackml")
Doc = dict[str, Any]


def load(results: Path, name: str) -> Doc | None:
    """The JSON document ``results/name`` or None when absent or unreadable."""
    try:
        data: Doc = json.loads((results / name).read_text())
    except (OSError, ValueError):
        return None
    return data


def fmt_stat(s: object, fmt: str, scale: float = 1.0) -> str:
    """``median (min-max, n)`` of a stats dict from common.stats, or an em dash."""
    if not isinstance(s, dict) or "median" not in s:
        return "—"
    med = fmt.format(s["median"] * scale)
    if s.get("n", 1) <= 1:
        return med
    return f"{med} ({fmt.format(s['min'] * scale)}-{fmt.format(s['max'] * scale)}, n={s['n']})"


Getter = Callable[[dict[str, Doc | None]], str]


def stat(file: str, key: str, fmt: str, scale: float = 1.0) -> Getter:
    """Getter for a stats entry ``key`` of document ``<anchor><file>``.

    When the entry is missing and its phase recorded an error, the error is shown instead.
    """

    def get(docs: dict[str, Doc | None]) -> str:
        d = docs.get(file)
        if d is None:
            return "—"
        if key not in d:
            errors = [str(v) for k, v in d.items() if k.endswith("_error")]
            if errors:
                return ("error: " + "; ".join(errors))[:100]
        return fmt_stat(d.get(key), fmt, scale)

    return get


def plain(file: str, key: str, fmt: str = "{}") -> Getter:
    """Getter for a scalar entry ``key`` of document ``<anchor><file>``."""

    def get(docs: dict[str, Doc | None]) -> str:
        d = docs.get(file)
        if d is None or d.get(key) is None:
            return "—"
        return fmt.format(d[key])

    return get


def mem(file: str) -> Getter:
    """Getter for the RSS total of a memory snapshot."""

    def get(docs: dict[str, Doc | None]) -> str:
        d = docs.get(file)
        if d is None:
            return "—"
        return f"{d['total_rss_mib']:.0f} MiB RSS, {d['n_procs']} procs"

    return get


ROWS: list[tuple[str, Getter]] = [
    ("version", plain("_server.json", "version")),
    ("start-up to first /health 200, s", plain("_server.json", "startup_s", "{:.2f}")),
    ("`log_metric`, synchronous, points/s", stat(".json", "log_metric_points_per_s", "{:.1f}")),
    ("`log_metric`, ms a call", stat(".json", "log_metric_ms_per_call", "{:.1f}")),
    (
        "`log_batch` (1,000 a call, one key), points/s",
        stat(".json", "log_batch_points_per_s", "{:,.0f}"),
    ),
    ("`get_metric_history`, points", plain(".json", "metric_history_points", "{:,}")),
    ("`get_metric_history`, s", stat(".json", "metric_history_latency_s", "{:.3f}")),
    (
        "create runs (10 params, 5 metrics, 3 tags), runs/s",
        stat(".json", "create_runs_runs_per_s", "{:.1f}"),
    ),
    (
        "`search_runs` over the create_runs experiment, ms",
        stat(".json", "search_runs_1k_latency_s", "{:.1f}", 1000.0),
    ),
    ("  runs returned", plain(".json", "search_runs_1k_returned")),
    (
        "`search_runs` over the big experiment, ms",
        stat("_search_10k.json", "search_runs_big_latency_s", "{:.1f}", 1000.0),
    ),
    ("  runs in the big experiment", plain("_search_10k.json", "search_runs_big_n_runs", "{:,}")),
    ("server memory, idle", mem("_mem_idle.json")),
    ("server memory, after the workload", mem("_mem_after.json")),
]


def populate_line(name: str, d: Doc | None) -> str | None:
    """How the big experiment was written (informational)."""
    p = (d or {}).get("populate_big_runs_per_s_threads")
    if not p:
        return None
    return (
        f"- {name}: populated {p['runs']:,} runs via `{p['populate_uri']}` in "
        f"{p['seconds']:.1f} s ({p['runs_per_s']:.1f} runs/s, {p['n_errors']} errors)"
    )


def main(argv: list[str]) -> int:
    """Print the summary of ``argv[1]`` (default ``results``)."""
    results = Path(argv[1] if len(argv) > 1 else "results")
    docs = {
        a: {
            f: load(results, a + f)
            for f in (
                ".json",
                "_search_10k.json",
                "_server.json",
                "_mem_idle.json",
                "_mem_after.json",
            )
        }
        for a in ANCHORS
    }
    present = [a for a in ANCHORS if any(docs[a].values())]
    if present:
        print("| figure | " + " | ".join(present) + " |")
        print("|---|" + "---|" * len(present))
        for label, get in ROWS:
            print(f"| {label} | " + " | ".join(get(docs[a]) for a in present) + " |")
    lines = [populate_line(a, docs[a]["_search_10k.json"]) for a in present]
    if any(lines):
        print()
        print("\n".join(x for x in lines if x))
    bare = load(results, "bare_sqlite.json")
    if bare:
        print()
        print(
            f"Physical reference (bare sqlite3 {bare['sqlite']}, WAL, primary key, "
            f"synchronous={bare['pragmas']['synchronous']}): executemany of "
            f"{bare['rows']:,} rows: {fmt_stat(bare['write_rows_per_s'], '{:,.0f}')} rows/s; "
            f"reading {bare['read_rows']:,} back: {fmt_stat(bare['read_s'], '{:.3f}')} s."
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
