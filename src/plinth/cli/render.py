"""Rich rendering of tracking objects: tables people read and compare."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from rich.table import Table

from plinth.entities.tracking import Experiment, Run, RunComparison


def when(ms: int | None) -> str:
    if ms is None:
        return "-"
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")


def number(value: float | None) -> str:
    if value is None:
        return "-"
    if math.isnan(value) or math.isinf(value):
        return str(value)
    return f"{value:.6g}"


def plain(value: Any) -> str:
    return "-" if value is None else str(value)


def experiments_table(items: list[Experiment]) -> Table:
    table = Table(title="Experiments")
    for column in ("id", "project", "name", "created", "by", "stage"):
        table.add_column(column)
    for e in items:
        table.add_row(e.id, e.project, e.name, when(e.created_at), e.created_by, e.lifecycle_stage)
    return table


def runs_table(items: list[Run], metric_keys: list[str] | None = None) -> Table:
    keys = metric_keys
    if keys is None:
        keys = sorted({k for run in items for k in run.metrics if not k.startswith("system/")})[:4]
    table = Table(title=f"Runs ({len(items)})")
    table.add_column("id", no_wrap=True)
    for column in ("name", "status", "started", *keys):
        table.add_column(column, justify="right" if column in keys else "left")
    for run in items:
        values = [number(run.metrics[k].value) if k in run.metrics else "-" for k in keys]
        table.add_row(run.id, run.name, run.status, when(run.start_time), *values)
    return table


def run_detail(run: Run) -> list[Table]:
    info = Table(title=f"Run {run.name}", show_header=False)
    info.add_column("field", style="bold")
    info.add_column("value")
    rows = {
        "id": run.id,
        "experiment": run.experiment_id,
        "status": run.status,
        "started": when(run.start_time),
        "ended": when(run.end_time),
        "user": plain(run.user),
        "script": plain(run.source.script),
        "git": f"{plain(run.source.git_commit)}{' (dirty)' if run.source.git_dirty else ''}",
        "parent": plain(run.parent_run_id),
    }
    for field, text in rows.items():
        info.add_row(field, text)
    tables = [info]
    for title, mapping in (("Params", run.params), ("Tags", run.tags)):
        if mapping:
            table = Table(title=title)
            table.add_column("key")
            table.add_column("value")
            for key, shown in sorted(mapping.items()):
                table.add_row(key, repr(shown) if title == "Params" else str(shown))
            tables.append(table)
    if run.metrics:
        table = Table(title="Metrics (latest)")
        for column in ("key", "value", "step"):
            table.add_column(column)
        for key, latest in sorted(run.metrics.items()):
            table.add_row(key, number(latest.value), str(latest.step))
        tables.append(table)
    return tables


def comparison_table(comparison: RunComparison) -> Table:
    """Params then metrics, one column per run; differing params highlighted."""
    table = Table(title="Compare runs")
    table.add_column("")
    for name, run_id in zip(comparison.names, comparison.run_ids, strict=True):
        table.add_column(f"{name}\n{run_id[:8]}")
    differing = set(comparison.differing_params)
    for key, values in comparison.params.items():
        style = "bold yellow" if key in differing else None
        marker = "≠ " if key in differing else "  "
        table.add_row(f"{marker}params.{key}", *[plain(v) for v in values], style=style)
    for key, metric_values in comparison.metrics.items():
        table.add_row(f"  metrics.{key}", *[number(v) for v in metric_values])
    return table
