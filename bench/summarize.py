#!/usr/bin/env python3
"""Turn one side-by-side run (``bench/run_all.sh OUT``) into ``bench/RESULTS.md`` and a
chart of the speed-ups (``bench/results.svg``).

    python bench/summarize.py OUT_DIR [--results bench/RESULTS.md] [--chart bench/results.svg]

Reads the anchors' JSON (MLflow, FastTrackML, bare SQLite, written by
``anchors/run_anchors.sh``) and plinth's (``bench_plinth.py``) from OUT_DIR. Every figure is
a median of the reps in that one run; ratios compare numbers measured minutes apart on the
same machine.
"""

from __future__ import annotations

import argparse
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def load(folder: Path, name: str) -> dict[str, Any]:
    path = folder / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else {}


def median(document: dict[str, Any], key: str) -> float | None:
    value = document.get(key)
    if isinstance(value, dict):
        value = value.get("median")
    return float(value) if isinstance(value, int | float) else None


@dataclass
class Figure:
    name: str
    unit: str
    plinth: float | None
    plinth_pg: float | None
    mlflow: float | None
    fasttrackml: float | None
    target: str
    higher_is_better: bool = True

    def ratio(self, anchor: float | None) -> float | None:
        if self.plinth is None or anchor is None or anchor == 0 or self.plinth == 0:
            return None
        return self.plinth / anchor if self.higher_is_better else anchor / self.plinth


def fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "s":
        return f"{value:.3f} s" if value < 10 else f"{value:.1f} s"
    if unit == "ms":
        return f"{value:.1f} ms"
    if unit == "µs":
        return f"{value:.2f} µs"
    if unit == "MiB":
        return f"{value:,.0f} MiB"
    return f"{value:,.0f}" if value >= 100 else f"{value:,.1f}"


def fmt_ratio(value: float | None) -> str:
    return "—" if value is None else f"{value:,.1f}×"


def figures(folder: Path) -> tuple[list[Figure], dict[str, Any]]:
    mlflow, ftml = load(folder, "mlflow"), load(folder, "fasttrackml")
    mlflow_10k, ftml_10k = load(folder, "mlflow_search_10k"), load(folder, "fasttrackml_search_10k")
    bare = load(folder, "bare_sqlite")
    sqlite, pg = load(folder, "plinth_sqlite"), load(folder, "plinth_postgres")
    huge, huge_pg = load(folder, "plinth_sqlite_1m"), load(folder, "plinth_postgres_1m")
    rss = {n: load(folder, f"{n}_mem_{w}") for n in ("mlflow", "fasttrackml") for w in ("idle",)}
    after = {n: load(folder, f"{n}_mem_after") for n in ("mlflow", "fasttrackml")}

    def ms(document: dict[str, Any], key: str) -> float | None:
        value = median(document, key)
        return None if value is None else value * 1000

    per_call_ml = median(mlflow, "log_metric_ms_per_call")
    per_call_ft = median(ftml, "log_metric_ms_per_call")
    rows = [
        Figure(
            "batched ingestion, 1,000-point batches (points/s)",
            "",
            median(sqlite, "log_batch_1k_points_per_s"),
            median(pg, "log_batch_1k_points_per_s"),
            median(mlflow, "log_batch_points_per_s"),
            median(ftml, "log_batch_points_per_s"),
            "≥ 250,000; ≥ 50× MLflow, ≥ 20× FastTrackML",
        ),
        Figure(
            "batched ingestion, 10,000-point batches (points/s)",
            "",
            median(sqlite, "log_batch_10k_points_per_s"),
            median(pg, "log_batch_10k_points_per_s"),
            median(mlflow, "log_batch_points_per_s"),
            median(ftml, "log_batch_points_per_s"),
            "≥ 250,000; ≥ half of bare SQLite",
        ),
        Figure(
            "`log_metric` in a training loop (µs per call, calling thread)",
            "µs",
            median(sqlite, "log_metric_us_per_call"),
            median(pg, "log_metric_us_per_call"),
            None if per_call_ml is None else per_call_ml * 1000,
            None if per_call_ft is None else per_call_ft * 1000,
            "≤ 5 µs; ≥ 1,000× MLflow",
            higher_is_better=False,
        ),
        Figure(
            "create runs, 10 params + 5 metrics + 3 tags, MLflow-shaped calls (runs/s)",
            "",
            median(sqlite, "create_runs_mlflow_shaped_runs_per_s"),
            median(pg, "create_runs_mlflow_shaped_runs_per_s"),
            median(mlflow, "create_runs_runs_per_s"),
            median(ftml, "create_runs_runs_per_s"),
            "≥ 300",
        ),
        Figure(
            "create runs, one call (`start_run(params=, tags=)`) (runs/s)",
            "",
            median(sqlite, "create_runs_one_call_runs_per_s"),
            median(pg, "create_runs_one_call_runs_per_s"),
            median(mlflow, "create_runs_runs_per_s"),
            median(ftml, "create_runs_runs_per_s"),
            "≥ 300",
        ),
        Figure(
            "search, filter + order, 1,000 runs (ms)",
            "ms",
            ms(sqlite, "search_runs_1k_latency_s"),
            ms(pg, "search_runs_1k_latency_s"),
            ms(mlflow, "search_runs_1k_latency_s"),
            ms(ftml, "search_runs_1k_latency_s"),
            "—",
            higher_is_better=False,
        ),
        Figure(
            "search, filter + order, 10,000 runs (ms)",
            "ms",
            ms(sqlite, "search_runs_big_latency_s"),
            ms(pg, "search_runs_big_latency_s"),
            ms(mlflow_10k, "search_runs_big_latency_s"),
            ms(ftml_10k, "search_runs_big_latency_s"),
            "≤ 50 ms",
            higher_is_better=False,
        ),
        Figure(
            "search, filter + order, 1,000,000 runs (ms)",
            "ms",
            ms(huge, "search_runs_huge_latency_s"),
            ms(huge_pg, "search_runs_huge_latency_s"),
            None,
            None,
            "≤ 1,000 ms",
            higher_is_better=False,
        ),
        Figure(
            "metric history, 100,000 points through the server (s)",
            "s",
            median(sqlite, "metric_history_latency_s"),
            median(pg, "metric_history_latency_s"),
            median(mlflow, "metric_history_latency_s"),
            median(ftml, "metric_history_latency_s"),
            "≤ 0.3 s",
            higher_is_better=False,
        ),
        Figure(
            "server memory, idle (MiB RSS)",
            "MiB",
            median(sqlite, "server_rss_idle_mib"),
            median(pg, "server_rss_idle_mib"),
            median(rss["mlflow"], "total_rss_mib"),
            median(rss["fasttrackml"], "total_rss_mib"),
            "≤ 200 MiB",
            higher_is_better=False,
        ),
        Figure(
            "server memory, after the workload (MiB RSS)",
            "MiB",
            median(sqlite, "server_rss_after_mib"),
            median(pg, "server_rss_after_mib"),
            median(after["mlflow"], "total_rss_mib"),
            median(after["fasttrackml"], "total_rss_mib"),
            "≤ 400 MiB",
            higher_is_better=False,
        ),
    ]
    context = {"bare": bare, "sqlite": sqlite, "pg": pg, "mlflow": mlflow, "ftml": ftml}
    for name in (
        "mlflow_artifact",
        "plinth_artifacts",
        "plinth_registry_sqlite",
        "plinth_registry_postgres",
        "plinth_load_model",
    ):
        context[name] = load(folder, name)
    return rows, context


def markdown(rows: list[Figure], context: dict[str, Any], date: str) -> str:
    bare = context["bare"]
    bare_rate = median(bare, "write_rows_per_s")
    ingest_10k = rows[1].plinth
    lines = [
        "# Benchmark results",
        "",
        f"One side-by-side run on {date}, on this workplace's 2-core development machine (shared",
        "and noisy: compare the ratios, measured minutes apart in the same run, not absolute",
        "numbers across runs). Every figure is the median of its reps. All servers on 127.0.0.1,",
        "SQLite with default settings unless the column says PostgreSQL; the MLflow and",
        "FastTrackML figures come from the shared MLflow-client workload",
        "(`anchors/bench_tracking.py`), plinth's from the same workloads through plinth's SDK",
        "and REST client (`bench_plinth.py`).",
        "",
        "Reproduce: `bash bench/anchors/install_anchors.sh` once, then `make bench` (=",
        "`bench/run_all.sh bench/results/<date>`, about 40 minutes), which ends by rewriting this",
        "file with `python bench/summarize.py bench/results/<date>`.",
        "",
        "| figure | plinth (SQLite) | plinth (PostgreSQL) | MLflow 3.17 | FastTrackML 0.6 |"
        " × MLflow | × FastTrackML | target |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row.name} | {fmt(row.plinth, row.unit)} | {fmt(row.plinth_pg, row.unit)} | "
            f"{fmt(row.mlflow, row.unit)} | {fmt(row.fasttrackml, row.unit)} | "
            f"{fmt_ratio(row.ratio(row.mlflow))} | {fmt_ratio(row.ratio(row.fasttrackml))} | "
            f"{row.target} |"
        )
    if bare_rate and ingest_10k:
        lines += [
            "",
            f"Physical reference in the same run: bare `sqlite3` `executemany` of 1,000,000 rows "
            f"into a WAL database with a primary key: **{bare_rate:,.0f} rows/s**; plinth's "
            f"batched ingestion through its HTTP server reached "
            f"**{ingest_10k / bare_rate:.0%}** of it "
            f"(target ≥ 50%). Reading 100,000 rows back bare: "
            f"{median(bare, 'read_s') or 0:.3f} s.",
        ]
    lines += ["", "![speed-ups](results.svg)", ""]
    lines += artifact_lines(context)
    limits = Path(__file__).with_name("LIMITS.md")
    if limits.exists():
        lines += [limits.read_text()]
    return "\n".join(lines) + "\n"


def artifact_lines(context: dict[str, Any]) -> list[str]:
    """The artifact store, registry and model loading figures (issue 3), when measured."""
    ml, ours = context["mlflow_artifact"], context["plinth_artifacts"]
    registry, registry_pg = context["plinth_registry_sqlite"], context["plinth_registry_postgres"]
    load_model = context["plinth_load_model"]
    if not (ours or registry or load_model):
        return []
    cp = median(ours, "cp_MB_per_s")
    up, down = median(ours, "upload_MB_per_s"), median(ours, "download_MB_per_s")
    ml_up = median(ml, "log_artifact_proxied_MB_per_s")
    ml_down = median(ml, "download_artifact_proxied_MB_per_s")

    def share(value: float | None, of: float | None) -> str:
        return "—" if not value or not of else f"{value / of:.2f}×"

    def nested(document: dict[str, Any], *keys: str) -> float | None:
        value: Any = document
        for key in keys:
            value = value.get(key) if isinstance(value, dict) else None
        return float(value) if isinstance(value, int | float) else None

    size = (ours.get("args") or {}).get("mb", "?")
    lines = [
        "## Artifacts, registry and model loading",
        "",
        f"Artifact transfers of a {size} MB file through the server (plinth) and MLflow's",
        "proxied artifact server, and `cp` of the same file on the same disk, in the same run:",
        "",
        "| figure | plinth | MLflow 3.17 | `cp` | × MLflow | share of `cp` | target |",
        "|---|---|---|---|---|---|---|",
        f"| upload (MB/s) | {fmt(up, '')} | {fmt(ml_up, '')} | {fmt(cp, '')} | "
        f"{share(up, ml_up)} | {share(up, cp)} | ≥ 5× MLflow, ≥ 0.5× `cp` |",
        f"| download (MB/s) | {fmt(down, '')} | {fmt(ml_down, '')} | {fmt(cp, '')} | "
        f"{share(down, ml_down)} | {share(down, cp)} | ≥ 5× MLflow, ≥ 0.5× `cp` |",
        "",
        f"Hashing the same file with sha256 (one core, the work a content-addressed store "
        f"cannot skip): {fmt(median(ours, 'sha256_MB_per_s'), '')} MB/s; an upload through the "
        "server cannot be faster than that, and `cp` does no hashing.",
        "",
        f"Server RSS during transfers: idle {fmt(median(ours, 'server_rss_idle_mib'), 'MiB')}, "
        f"peak while uploading {fmt(median(ours, 'server_rss_peak_upload_mib'), 'MiB')}, "
        f"while downloading {fmt(median(ours, 'server_rss_peak_download_mib'), 'MiB')}.",
        "",
        "| figure | SQLite | PostgreSQL | target |",
        "|---|---|---|---|",
        f"| register a version over HTTP, median | "
        f"{fmt(nested(registry, 'register', 'median_ms'), 'ms')} | "
        f"{fmt(nested(registry_pg, 'register', 'median_ms'), 'ms')} | < 20 ms |",
        f"| move an alias (3 gates) over HTTP, median | "
        f"{fmt(nested(registry, 'move_alias', 'median_ms'), 'ms')} | "
        f"{fmt(nested(registry_pg, 'move_alias', 'median_ms'), 'ms')} | < 20 ms |",
        "",
        "`load_model` of a registered scikit-learn model (skops) in a fresh Python process:",
        f"import plinth {fmt(nested(load_model, 'warm_median_s', 'import'), 's')}, "
        f"`load_model` {fmt(nested(load_model, 'warm_median_s', 'load'), 's')}, first "
        f"prediction {fmt(nested(load_model, 'warm_median_s', 'predict'), 's')}; the first "
        f"process (empty cache) {fmt(median(load_model, 'cold_total_s'), 's')} in all. The floor "
        f"(importing scikit-learn and unpickling the model, no plinth) is "
        f"{fmt(median(load_model, 'floor_median_s'), 's')} (target: under 0.5 s).",
        "In a running process that has already imported plinth, pandas and scikit-learn,"
        f" `load_model` took {fmt(nested(load_model, 'running_process_median_s', 'load'), 's')}"
        " and the first prediction "
        f"{fmt(nested(load_model, 'running_process_median_s', 'predict'), 's')}: plinth's own"
        " share of a load.",
        "",
    ]
    return lines


def chart(rows: list[Figure]) -> str:
    """Horizontal bars of plinth's speed-up over each anchor, on a log scale (SVG, no deps)."""
    bars = [(r.name.split(" (")[0], r.ratio(r.mlflow), r.ratio(r.fasttrackml)) for r in rows]
    bars = [b for b in bars if b[1] or b[2]]
    width, left, row_height = 860, 380, 34
    height = 60 + row_height * len(bars)
    top = max(math.log10(max(v for b in bars for v in b[1:] if v)), 1.0)
    scale = (width - left - 60) / top
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        'font-family="sans-serif" font-size="12">',
        '<text x="10" y="20" font-size="14" font-weight="bold">plinth speed-up over the '
        "anchors (log scale; 1× = the anchor)</text>",
        '<rect x="10" y="30" width="12" height="10" fill="#3b6fd8"/>',
        '<text x="28" y="39">× MLflow</text>',
        '<rect x="110" y="30" width="12" height="10" fill="#e08a2c"/>',
        '<text x="128" y="39">× FastTrackML</text>',
    ]
    for index, (label, vs_mlflow, vs_ftml) in enumerate(bars):
        y = 55 + index * row_height
        parts.append(f'<text x="10" y="{y + 14}">{label[:52]}</text>')
        for offset, value, colour in ((0, vs_mlflow, "#3b6fd8"), (14, vs_ftml, "#e08a2c")):
            if not value:
                continue
            length = max(1.0, math.log10(max(value, 1.0)) * scale)
            parts.append(
                f'<rect x="{left}" y="{y + offset}" width="{length:.1f}" height="12" '
                f'fill="{colour}"/><text x="{left + length + 4:.1f}" y="{y + offset + 10}">'
                f"{value:,.1f}×</text>"
            )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("folder", type=Path)
    parser.add_argument("--results", type=Path, default=Path(__file__).with_name("RESULTS.md"))
    parser.add_argument("--chart", type=Path, default=Path(__file__).with_name("results.svg"))
    args = parser.parse_args()
    rows, context = figures(args.folder)
    date = str(context["sqlite"].get("started", "?"))[:10]
    args.results.write_text(markdown(rows, context, date))
    args.chart.write_text(chart(rows))
    print(f"wrote {args.results} and {args.chart}")


if __name__ == "__main__":
    main()
