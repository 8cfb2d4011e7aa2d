"""The runs table: a filter box in the search language, sortable columns and page-token
pagination. htmx swaps only the table (``_runs_table.html``) and pushes the URL, so every
state of the table is a link that can be shared or bookmarked."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from plinth.entities.tracking import Experiment, Run
from plinth.errors import InvalidArgument
from plinth.server.deps import TrackingDep
from plinth.server.ui.run_detail import SYSTEM_PREFIX
from plinth.server.ui.templating import is_partial, query_string, render
from plinth.tracking.service import TrackingService

router = APIRouter(include_in_schema=False)

DEFAULT_PAGE_SIZE = 50
MAX_COLUMNS = 20
"""Metric and param columns shown at most (each); the rest are counted in a note."""
EXPERIMENT_CHOICES = 1000
DEFAULT_ORDER = "start_time DESC"

ColumnKind = Literal["attribute", "metric", "param"]


@dataclass(frozen=True)
class Column:
    """A column of the runs table and the order-by clause (without direction) it sorts on."""

    label: str
    kind: ColumnKind
    key: str
    order_stem: str | None
    numeric: bool = False


ATTRIBUTE_COLUMNS = [
    Column("Name", "attribute", "name", "name"),
    Column("Status", "attribute", "status", "status"),
    Column("Started", "attribute", "start_time", "start_time", numeric=True),
    Column("Duration", "attribute", "duration", None),
    Column("User", "attribute", "user", "user"),
]


def keyed_stem(prefix: str, key: str) -> str:
    """``metrics.`val/acc``` : keys are back-quoted so dots, slashes and spaces are kept."""
    return f"{prefix}.`{key}`"


@dataclass(frozen=True)
class RunsView:
    """The table's state, all of it in the URL."""

    experiment_ids: list[str] = field(default_factory=list)
    filter: str = ""
    order_by: str = ""
    page_token: str | None = None
    trail: list[str] = field(default_factory=list)
    """Page tokens of the pages before this one ("" is the first), for the Previous link."""
    max_results: int = DEFAULT_PAGE_SIZE

    def url(self, root: str, **changes: Any) -> str:
        view = replace(self, **changes)
        return (
            root
            + "/runs"
            + query_string(
                {
                    "experiment_id": view.experiment_ids,
                    "filter": view.filter,
                    "order_by": view.order_by,
                    "page_token": view.page_token,
                    "trail": [token or "-" for token in view.trail],
                    "max_results": None
                    if view.max_results == DEFAULT_PAGE_SIZE
                    else view.max_results,
                }
            )
        )

    @property
    def sort(self) -> tuple[str, bool]:
        """The current order-by stem and whether it is descending."""
        clause = (self.order_by or DEFAULT_ORDER).strip()
        stem, _, direction = clause.rpartition(" ")
        if direction.upper() in ("ASC", "DESC") and stem:
            return stem.strip(), direction.upper() == "DESC"
        return clause, False

    def sort_url(self, root: str, column: Column) -> str:
        """Clicking a header sorts by it; clicking it again flips the direction."""
        stem, descending = self.sort
        if column.order_stem == stem:
            direction = "ASC" if descending else "DESC"
        else:
            direction = "DESC" if column.numeric else "ASC"
        order = f"{column.order_stem} {direction}"
        return self.url(root, order_by=order, page_token=None, trail=[])

    def sort_state(self, column: Column) -> str:
        """``ascending``, ``descending`` or ``none``, for ``aria-sort`` and the arrow."""
        stem, descending = self.sort
        if column.order_stem != stem:
            return "none"
        return "descending" if descending else "ascending"

    def next_url(self, root: str, next_token: str) -> str:
        return self.url(root, page_token=next_token, trail=[*self.trail, self.page_token or ""])

    def previous_url(self, root: str) -> str | None:
        if not self.trail:
            return None
        return self.url(root, page_token=self.trail[-1] or None, trail=self.trail[:-1])


def columns_for(runs: list[Run]) -> tuple[list[Column], list[Column], int]:
    """Metric and param columns from the runs on this page (system metrics have their own
    section on the run page), capped at ``MAX_COLUMNS`` each; also how many were left out."""
    metric_keys = sorted(
        {k for run in runs for k in run.metrics if not k.startswith(SYSTEM_PREFIX)}
    )
    param_keys = sorted({k for run in runs for k in run.params})
    hidden = max(0, len(metric_keys) - MAX_COLUMNS) + max(0, len(param_keys) - MAX_COLUMNS)
    metrics = [
        Column(key, "metric", key, keyed_stem("metrics", key), numeric=True)
        for key in metric_keys[:MAX_COLUMNS]
    ]
    params = [
        Column(key, "param", key, keyed_stem("params", key)) for key in param_keys[:MAX_COLUMNS]
    ]
    return metrics, params, hidden


def experiment_choices(tracking: TrackingService) -> list[Experiment]:
    """The experiment picker's options (and the names shown in the Experiment column)."""
    return tracking.store.list_experiments(max_results=EXPERIMENT_CHOICES).items


@router.get("/runs")
def runs_page(
    request: Request,
    tracking: TrackingDep,
    experiment_id: Annotated[list[str] | None, Query(max_length=100)] = None,
    filter: Annotated[str, Query(max_length=10_000)] = "",
    order_by: Annotated[str, Query(max_length=1000)] = "",
    page_token: Annotated[str | None, Query(max_length=1000)] = None,
    trail: Annotated[list[str] | None, Query(max_length=1000)] = None,
    max_results: Annotated[int, Query(ge=1, le=1000)] = DEFAULT_PAGE_SIZE,
) -> Response:
    """The whole page, or (for an htmx request) only the table."""
    view = RunsView(
        experiment_ids=[e for e in experiment_id or [] if e],
        filter=filter.strip(),
        order_by=order_by.strip(),
        page_token=page_token or None,
        trail=["" if token == "-" else token for token in trail or []],
        max_results=max_results,
    )
    runs: list[Run] = []
    next_token: str | None = None
    error: str | None = None
    try:
        page = tracking.search_runs(
            experiment_ids=view.experiment_ids,
            filter=view.filter,
            order_by=[view.order_by] if view.order_by else [],
            max_results=view.max_results,
            page_token=view.page_token,
        )
        runs, next_token = page.items, page.next_page_token
    except InvalidArgument as exc:  # a malformed filter names the position: show it inline
        error = exc.detail
    experiments = experiment_choices(tracking)
    metric_columns, param_columns, hidden = columns_for(runs)
    context = {
        "view": view,
        "runs": runs,
        "error": error,
        "next_token": next_token,
        "attribute_columns": ATTRIBUTE_COLUMNS,
        "metric_columns": metric_columns,
        "param_columns": param_columns,
        "hidden_columns": hidden,
        "experiments": experiments,
        "experiment_names": {e.id: e.name for e in experiments},
    }
    template = "_runs_table.html" if is_partial(request) else "runs.html"
    return render(request, template, context, section="runs")
