"""Tracking rules on top of any ``TrackingStore``: the one API the SDK, CLI and server use.

Derived writes (``log_param``, ``set_tag``, ``log_metrics``, ``end_run``) are built on the
store's single batch primitive, so a new store only implements ``log_batch``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import ValidationError

from plinth.entities.common import Page, new_id, now_ms
from plinth.entities.params import same_param
from plinth.entities.tracking import (
    BatchResult,
    DatasetInput,
    Experiment,
    ExperimentCreate,
    MetricBatch,
    MetricHistory,
    Run,
    RunBatch,
    RunComparison,
    RunCreate,
    RunQuery,
    RunStatus,
    RunUpdate,
)
from plinth.errors import FieldError, InvalidArgument, NotFound
from plinth.tracking.store import TrackingStore


def build(model: type[Any], **fields: Any) -> Any:
    """Build an entity, turning pydantic's errors into ``InvalidArgument`` with field names."""
    try:
        return model(**fields)
    except ValidationError as exc:
        raise invalid_from_validation(exc) from None


def invalid_from_validation(exc: ValidationError) -> InvalidArgument:
    errors = [
        FieldError(".".join(str(part) for part in error["loc"]) or "body", error["msg"])
        for error in exc.errors(include_url=False)
    ]
    summary = "; ".join(f"{e.field}: {e.message}" for e in errors[:3])
    return InvalidArgument(f"invalid input: {summary}", errors)


class TrackingService:
    """Experiments and runs, whichever store is underneath."""

    def __init__(self, store: TrackingStore) -> None:
        self.store = store

    # experiments ------------------------------------------------------------------------

    def create_experiment(
        self,
        name: str,
        project: str = "default",
        description: str = "",
        tags: Mapping[str, str] | None = None,
    ) -> Experiment:
        spec = build(
            ExperimentCreate,
            name=name,
            project=project,
            description=description,
            tags=dict(tags or {}),
        )
        return self.store.create_experiment(spec)

    def get_or_create_experiment(self, name: str, project: str = "default") -> Experiment:
        try:
            return self.store.get_experiment_by_name(project, name)
        except NotFound:
            return self.create_experiment(name, project)

    # runs -------------------------------------------------------------------------------

    def create_run(self, **fields: Any) -> Run:
        return self.store.create_run(build(RunCreate, **fields))

    def log_batch(
        self,
        run_id: str,
        *,
        metrics: MetricBatch | Mapping[str, list[Any]] | None = None,
        params: Mapping[str, Any] | None = None,
        tags: Mapping[str, str] | None = None,
        update: RunUpdate | None = None,
        batch_id: str | None = None,
    ) -> BatchResult:
        batch = build(
            RunBatch,
            batch_id=batch_id or new_id(),
            metrics=metrics,
            params=dict(params or {}),
            tags=dict(tags or {}),
            update=update,
        )
        return self.store.log_batch(run_id, batch)

    def log_params(self, run_id: str, params: Mapping[str, Any]) -> None:
        self.log_batch(run_id, params=params)

    def set_tags(self, run_id: str, tags: Mapping[str, Any]) -> None:
        self.log_batch(run_id, tags={k: str(v) for k, v in tags.items()})

    def log_metrics(
        self, run_id: str, values: Mapping[str, float], step: int = 0, timestamp: int | None = None
    ) -> BatchResult:
        stamp = timestamp if timestamp is not None else now_ms()
        keys = list(values)
        columns: dict[str, list[Any]] = {
            "keys": keys,
            "values": [values[k] for k in keys],
            "steps": [step] * len(keys),
            "timestamps": [stamp] * len(keys),
        }
        return self.log_batch(run_id, metrics=columns)

    def end_run(self, run_id: str, status: RunStatus = RunStatus.FINISHED) -> Run:
        return self.store.update_run(run_id, RunUpdate(status=status, end_time=now_ms()))

    def log_inputs(self, run_id: str, inputs: Iterable[DatasetInput]) -> None:
        self.store.log_inputs(run_id, list(inputs))

    def search_runs(self, **fields: Any) -> Page[Run]:
        return self.store.search_runs(build(RunQuery, **fields))

    def get_metric_history(
        self,
        run_id: str,
        key: str,
        *,
        max_points: int | None = None,
        min_step: int | None = None,
        max_step: int | None = None,
    ) -> MetricHistory:
        if max_points is not None and max_points < 2:
            raise InvalidArgument.for_field("max_points", "must be at least 2")
        return self.store.get_metric_history(
            run_id, key, max_points=max_points, min_step=min_step, max_step=max_step
        )

    def compare_runs(self, run_ids: list[str]) -> RunComparison:
        if not run_ids:
            raise InvalidArgument.for_field("run_ids", "name at least one run")
        return compare(self.store.get_run(run_id) for run_id in run_ids)


def compare(runs: Iterable[Run]) -> RunComparison:
    """Params, latest metrics and tags of several runs, aligned; differing params listed."""
    chosen = list(runs)
    param_keys = sorted({k for run in chosen for k in run.params})
    metric_keys = sorted({k for run in chosen for k in run.metrics})
    tag_keys = sorted({k for run in chosen for k in run.tags})
    param_table = {k: [run.params.get(k) for run in chosen] for k in param_keys}
    differing = [
        k
        for k, values in param_table.items()
        if any(k not in run.params for run in chosen)
        or any(not same_param(values[0], v) for v in values[1:])
    ]
    return RunComparison(
        run_ids=[run.id for run in chosen],
        names=[run.name for run in chosen],
        params=param_table,
        differing_params=differing,
        metrics={
            k: [run.metrics[k].value if k in run.metrics else None for run in chosen]
            for k in metric_keys
        },
        tags={k: [run.tags.get(k) for run in chosen] for k in tag_keys},
    )
