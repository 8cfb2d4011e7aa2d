"""Runs: lifecycle, batched logging, search, compare and metric history."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status
from pydantic import BaseModel, Field

from plinth.entities.common import Page
from plinth.entities.limits import MAX_HISTORY_POINTS
from plinth.entities.tracking import (
    BatchResult,
    DatasetInput,
    Id,
    MetricHistory,
    Run,
    RunBatch,
    RunComparison,
    RunCreate,
    RunQuery,
    RunUpdate,
    Text,
)
from plinth.server.deps import IdempotencyKey, StateDep, TrackingDep
from plinth.server.inline import SMALL_BATCH_ENTRIES, SMALL_BATCH_POINTS, write_soon
from plinth.server.routing import OrjsonRoute

router = APIRouter(tags=["runs"], route_class=OrjsonRoute)

RunIdPath = Id


class RunInputs(BaseModel):
    inputs: list[DatasetInput] = Field(max_length=1000)


@router.post("/runs", status_code=status.HTTP_201_CREATED)
def create_run(spec: RunCreate, tracking: TrackingDep) -> Run:
    return tracking.store.create_run(spec)


@router.post("/runs/search")
def search_runs(query: RunQuery, tracking: TrackingDep) -> Page[Run]:
    return tracking.store.search_runs(query)


@router.get("/runs/compare")
def compare_runs(
    tracking: TrackingDep,
    run_ids: Annotated[list[Id], Query(min_length=1, max_length=100)],
) -> RunComparison:
    return tracking.compare_runs(run_ids)


@router.get("/runs/{run_id}")
def get_run(run_id: RunIdPath, tracking: TrackingDep) -> Run:
    return tracking.store.get_run(run_id)


@router.patch("/runs/{run_id}")
def update_run(run_id: RunIdPath, update: RunUpdate, tracking: TrackingDep) -> Run:
    return tracking.store.update_run(run_id, update)


@router.delete("/runs/{run_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_run(run_id: RunIdPath, tracking: TrackingDep) -> None:
    tracking.store.delete_run(run_id)


@router.post("/runs/{run_id}/restore", status_code=status.HTTP_204_NO_CONTENT)
def restore_run(run_id: RunIdPath, tracking: TrackingDep) -> None:
    tracking.store.restore_run(run_id)


@router.post("/runs/{run_id}/batch")
async def log_batch(
    run_id: RunIdPath,
    batch: RunBatch,
    tracking: TrackingDep,
    state: StateDep,
    idempotency_key: IdempotencyKey = None,
) -> BatchResult:
    """Metrics (columnar), params, tags and a status change, applied atomically. The batch's
    ``batch_id`` (or the ``Idempotency-Key`` header) makes a retry harmless."""
    if idempotency_key and not batch.batch_id:
        batch = batch.model_copy(update={"batch_id": idempotency_key})
    small = (
        batch.point_count <= SMALL_BATCH_POINTS
        and len(batch.params) + len(batch.tags) <= SMALL_BATCH_ENTRIES
    )
    result = await write_soon(state.database, small, tracking.store.log_batch, run_id, batch)
    state.metrics.batches.labels("applied" if result.applied else "duplicate").inc()
    if result.applied:
        state.metrics.points.inc(result.points)
    return result


@router.post("/runs/{run_id}/inputs", status_code=status.HTTP_204_NO_CONTENT)
def log_inputs(run_id: RunIdPath, body: RunInputs, tracking: TrackingDep) -> None:
    tracking.log_inputs(run_id, body.inputs)


@router.get("/runs/{run_id}/metric-history", response_model=MetricHistory)
def get_metric_history(
    run_id: RunIdPath,
    tracking: TrackingDep,
    key: Annotated[Text, Query(min_length=1, max_length=250)],
    max_points: Annotated[int | None, Query(ge=2, le=MAX_HISTORY_POINTS)] = None,
    min_step: Annotated[int | None, Query(ge=-(2**62), le=2**62)] = None,
    max_step: Annotated[int | None, Query(ge=-(2**62), le=2**62)] = None,
) -> Response:
    """A metric's points in columns; with ``max_points``, long series come back downsampled
    (each bucket's mean, min and max) so a million points can be plotted."""
    history = tracking.get_metric_history(
        run_id, key, max_points=max_points, min_step=min_step, max_step=max_step
    )
    return Response(history.model_dump_json(), media_type="application/json")
