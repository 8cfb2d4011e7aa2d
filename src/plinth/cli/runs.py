"""``plinth runs``: list, show, search, compare, delete."""

from __future__ import annotations

from typing import Annotated

import typer

from plinth.cli.context import console, fail, state
from plinth.cli.render import comparison_table, run_detail, runs_table
from plinth.entities.tracking import Run
from plinth.errors import PlinthError

app = typer.Typer(help="Runs.", no_args_is_help=True)

OrderBy = Annotated[
    list[str] | None, typer.Option("--order-by", help='e.g. "metrics.acc DESC" (repeatable).')
]
MaxResults = Annotated[int, typer.Option(min=1, max=10_000)]
Experiment = Annotated[str | None, typer.Option("--experiment", "-e", help="Experiment name.")]
ProjectOption = Annotated[str, typer.Option(help="Project of --experiment.")]


def _search(
    ctx: typer.Context,
    filter_text: str,
    order_by: list[str] | None,
    max_results: int,
    experiment: str | None,
    project: str,
) -> list[Run]:
    tracking = state(ctx).platform.tracking
    try:
        ids = []
        if experiment:
            ids.append(tracking.store.get_experiment_by_name(project, experiment).id)
        page = tracking.search_runs(
            filter=filter_text,
            order_by=order_by or [],
            max_results=max_results,
            experiment_ids=ids,
        )
    except PlinthError as exc:
        fail(exc)
    return page.items


@app.command("list")
def list_(
    ctx: typer.Context,
    experiment: Experiment = None,
    project: ProjectOption = "default",
    max_results: MaxResults = 50,
) -> None:
    """The newest runs."""
    console.print(runs_table(_search(ctx, "", None, max_results, experiment, project)))


@app.command()
def search(
    ctx: typer.Context,
    filter_text: Annotated[str, typer.Argument(metavar="FILTER", help="e.g. 'metrics.acc > 0.9'")],
    order_by: OrderBy = None,
    experiment: Experiment = None,
    project: ProjectOption = "default",
    max_results: MaxResults = 50,
) -> None:
    """Runs matching a filter, e.g. metrics.acc > 0.9 and params.model = "xgb"."""
    console.print(runs_table(_search(ctx, filter_text, order_by, max_results, experiment, project)))


@app.command()
def show(ctx: typer.Context, run_id: str) -> None:
    """A run's attributes, params, tags and latest metrics."""
    try:
        run = state(ctx).platform.tracking.store.get_run(run_id)
    except PlinthError as exc:
        fail(exc)
    for table in run_detail(run):
        console.print(table)


@app.command()
def compare(ctx: typer.Context, run_ids: list[str]) -> None:
    """Runs side by side; params that differ are highlighted."""
    try:
        comparison = state(ctx).platform.tracking.compare_runs(run_ids)
    except PlinthError as exc:
        fail(exc)
    console.print(comparison_table(comparison))
    if comparison.differing_params:
        console.print(f"differing params: {', '.join(comparison.differing_params)}")


@app.command()
def delete(ctx: typer.Context, run_id: str) -> None:
    """Delete a run (it leaves searches; the API can restore it)."""
    try:
        state(ctx).platform.tracking.store.delete_run(run_id)
    except PlinthError as exc:
        fail(exc)
    console.print(f"deleted run {run_id}")
