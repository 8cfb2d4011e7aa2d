"""Compare runs: their metrics overlaid on one chart per key, and a param diff that
highlights what differs (the usual answer to "why is this run better?")."""

from __future__ import annotations

from collections import Counter
from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from plinth.entities.tracking import Run
from plinth.errors import NotFound
from plinth.server.deps import TrackingDep
from plinth.server.ui.run_detail import chart_sources, not_found, split_metric_keys
from plinth.server.ui.templating import render
from plinth.tracking.service import compare

router = APIRouter(include_in_schema=False)

MAX_COMPARED = 50


def legend_labels(runs: list[Run]) -> dict[str, str]:
    """Run names, with a short id added where two runs share a name."""
    counts = Counter(run.name for run in runs)
    return {
        run.id: run.name if counts[run.name] == 1 else f"{run.name} ({run.id[:6]})" for run in runs
    }


@router.get("/compare")
def compare_page(
    request: Request,
    tracking: TrackingDep,
    run_ids: Annotated[list[str] | None, Query(max_length=MAX_COMPARED)] = None,
) -> Response:
    chosen = list(dict.fromkeys(r.strip() for r in run_ids or [] if r.strip()))
    if not chosen:
        return render(request, "compare.html", {"runs": []}, section="compare")
    try:
        runs = [tracking.store.get_run(run_id) for run_id in chosen]
    except NotFound as exc:
        return not_found(request, exc.detail, "compare")
    comparison = compare(runs)
    labels = legend_labels(runs)
    model_keys, system_keys = split_metric_keys(list(comparison.metrics))
    return render(
        request,
        "compare.html",
        {
            "runs": runs,
            "labels": labels,
            "comparison": comparison,
            "differing": set(comparison.differing_params),
            "model_keys": model_keys,
            "system_keys": system_keys,
            "sources": {key: chart_sources(runs, key, labels) for key in model_keys + system_keys},
        },
        section="compare",
    )
