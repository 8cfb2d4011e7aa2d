"""Reading and writing run rows: the parts of the SQL store that are not metrics or search."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

import orjson
from sqlalchemy import Connection, Row, select

from plinth.db.tables.tracking import (
    datasets,
    experiment_tags,
    experiments,
    metric_series,
    params,
    run_inputs,
    run_tags,
    runs,
)
from plinth.entities.params import decode_param
from plinth.entities.tracking import (
    DatasetInput,
    Experiment,
    LatestMetric,
    LifecycleStage,
    Run,
    RunSource,
    RunStatus,
)
from plinth.errors import NotFound

NAN = float("nan")


def experiment_from_rows(row: Row[Any], tags: dict[str, str]) -> Experiment:
    return Experiment(
        id=row.id,
        project=row.project,
        name=row.name,
        description=row.description,
        tags=tags,
        lifecycle_stage=LifecycleStage(row.lifecycle_stage),
        created_at=row.created_at,
        created_by=row.created_by,
    )


def load_experiments(conn: Connection, rows: Sequence[Row[Any]]) -> list[Experiment]:
    ids = [row.id for row in rows]
    tags: dict[str, dict[str, str]] = defaultdict(dict)
    if ids:
        tag_rows = conn.execute(
            select(experiment_tags).where(experiment_tags.c.experiment_id.in_(ids))
        )
        for tag in tag_rows:
            tags[tag.experiment_id][tag.key] = tag.value
    return [experiment_from_rows(row, tags[row.id]) for row in rows]


def get_experiment_row(conn: Connection, experiment_id: str) -> Row[Any]:
    row = conn.execute(select(experiments).where(experiments.c.id == experiment_id)).first()
    if row is None:
        raise NotFound(f"experiment {experiment_id!r} does not exist")
    return row


def get_run_row(conn: Connection, run_id: str) -> Row[Any]:
    row = conn.execute(select(runs).where(runs.c.id == run_id)).first()
    if row is None:
        raise NotFound(f"run {run_id!r} does not exist")
    return row


def load_runs(conn: Connection, run_ids: Sequence[str]) -> list[Run]:
    """Runs with their params, tags, latest metrics and inputs, in the order of ``run_ids``."""
    if not run_ids:
        return []
    ids = list(run_ids)
    run_rows = {r.id: r for r in conn.execute(_runs_with_project().where(runs.c.id.in_(ids)))}
    # Rows are fetched whole and unpacked as tuples: a page of 100 runs is ~2,000 rows.
    param_map: dict[str, dict[str, Any]] = defaultdict(dict)
    param_rows = conn.execute(
        select(params.c.run_id, params.c.key, params.c.value, params.c.value_type).where(
            params.c.run_id.in_(ids)
        )
    ).all()
    for run_id, key, text, param_type in param_rows:
        param_map[run_id][key] = text if param_type == "str" else decode_param(text, param_type)
    tag_map: dict[str, dict[str, str]] = defaultdict(dict)
    tag_rows = conn.execute(
        select(run_tags.c.run_id, run_tags.c.key, run_tags.c.value).where(
            run_tags.c.run_id.in_(ids)
        )
    ).all()
    for run_id, key, text in tag_rows:
        tag_map[run_id][key] = text
    metric_map: dict[str, dict[str, LatestMetric]] = defaultdict(dict)
    series_rows = conn.execute(
        select(
            metric_series.c.run_id,
            metric_series.c.key,
            metric_series.c.latest_value,
            metric_series.c.latest_step,
            metric_series.c.latest_timestamp,
        ).where(metric_series.c.run_id.in_(ids))
    ).all()
    for run_id, key, value, step, stamp in series_rows:
        metric_map[run_id][key] = LatestMetric(
            value=NAN if value is None else value, step=step, timestamp=stamp
        )
    input_map = _load_inputs(conn, ids)
    return [
        _run_from_row(run_rows[i], param_map[i], tag_map[i], metric_map[i], input_map[i])
        for i in ids
        if i in run_rows
    ]


def _runs_with_project() -> Any:
    return select(runs, experiments.c.project).join(
        experiments, experiments.c.id == runs.c.experiment_id
    )


def _load_inputs(conn: Connection, ids: Iterable[str]) -> dict[str, list[DatasetInput]]:
    inputs: dict[str, list[DatasetInput]] = defaultdict(list)
    rows = conn.execute(
        select(run_inputs.c.run_id, run_inputs.c.context, datasets)
        .join(datasets, datasets.c.id == run_inputs.c.dataset_id)
        .where(run_inputs.c.run_id.in_(list(ids)))
        .order_by(datasets.c.name)
    )
    for row in rows:
        inputs[row.run_id].append(
            DatasetInput(
                name=row.name,
                digest=row.digest,
                schema_=orjson.loads(row.schema_json) if row.schema_json else None,
                source=row.source,
                context=row.context,
                num_rows=row.num_rows,
            )
        )
    return inputs


def _run_from_row(
    row: Row[Any],
    param_values: dict[str, Any],
    tag_values: dict[str, str],
    latest: dict[str, LatestMetric],
    inputs: list[DatasetInput],
) -> Run:
    return Run(
        id=row.id,
        experiment_id=row.experiment_id,
        project=row.project,
        name=row.name,
        status=RunStatus(row.status),
        start_time=row.start_time,
        end_time=row.end_time,
        user=row.user_name,
        source=RunSource(
            script=row.source_script,
            git_commit=row.git_commit,
            git_dirty=row.git_dirty,
            git_branch=row.git_branch,
        ),
        parent_run_id=row.parent_run_id,
        notes=row.notes,
        lifecycle_stage=LifecycleStage(row.lifecycle_stage),
        created_by=row.created_by,
        params=param_values,
        tags=tag_values,
        metrics=latest,
        inputs=inputs,
    )
