"""The run page: what a run was given (params, tags, inputs), what it measured (interactive
charts, system metrics apart) and what it produced (the artifact browser)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from plinth.entities.lineage import Direction, LineageNode, NodeKind
from plinth.entities.tracking import Experiment, Run
from plinth.errors import NotFound, PlinthError
from plinth.registry.service import RegistryService
from plinth.server.deps import ArtifactsDep, RegistryDep, TrackingDep
from plinth.server.ui.artifacts import listing_context
from plinth.server.ui.templating import render

router = APIRouter(include_in_schema=False)

SYSTEM_PREFIX = "system/"


def split_metric_keys(keys: list[str]) -> tuple[list[str], list[str]]:
    """Model metrics and ``system/`` metrics, each sorted by key."""
    ordered = sorted(keys)
    return (
        [k for k in ordered if not k.startswith(SYSTEM_PREFIX)],
        [k for k in ordered if k.startswith(SYSTEM_PREFIX)],
    )


def chart_sources(
    runs: list[Run], key: str, labels: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    """What one chart fetches: the key's history from every run that logged it, each with
    its legend label and a colour index that stays the run's own across charts. The JS
    reads this list from the chart's ``data-sources`` attribute."""
    return [
        {
            "run_id": run.id,
            "key": key,
            "label": (labels or {}).get(run.id, key),
            "color": index,
            "start": run.start_time,
        }
        for index, run in enumerate(runs)
        if key in run.metrics
    ]


def not_found(request: Request, message: str, section: str) -> Response:
    return render(
        request,
        "error.html",
        {"title": "Not found", "message": message},
        section=section,
        status_code=404,
    )


def produced_versions(registry: RegistryService, run_id: str) -> list[LineageNode]:
    """The model versions registered from this run (one step down its lineage)."""
    try:
        graph = registry.lineage(f"run:{run_id}", direction=Direction.DOWN, depth=1)
    except PlinthError:
        return []
    return [node for node in graph.nodes if node.kind is NodeKind.MODEL_VERSION]


@router.get("/runs/{run_id}")
def run_page(
    request: Request,
    run_id: str,
    tracking: TrackingDep,
    artifacts: ArtifactsDep,
    registry: RegistryDep,
) -> Response:
    try:
        run = tracking.store.get_run(run_id)
    except NotFound as exc:
        return not_found(request, exc.detail, "runs")
    experiment: Experiment | None
    try:
        experiment = tracking.store.get_experiment(run.experiment_id)
    except NotFound:
        experiment = None
    model_keys, system_keys = split_metric_keys(list(run.metrics))
    try:
        listing: dict[str, object] = listing_context(artifacts, run.id, "")
        artifact_error = ""
    except PlinthError as exc:  # the browser is a panel: its failure must not sink the page
        listing = {"run_id": run.id, "path": "", "entries": [], "crumbs": [], "parent": None}
        artifact_error = exc.detail
    return render(
        request,
        "run.html",
        {
            "run": run,
            "experiment": experiment,
            "model_keys": model_keys,
            "system_keys": system_keys,
            "sources": {key: chart_sources([run], key) for key in run.metrics},
            "artifact_error": artifact_error,
            "model_versions": produced_versions(registry, run.id),
            **listing,
        },
        section="runs",
    )
