"""``plinth experiments``: list, create, delete."""

from __future__ import annotations

from typing import Annotated

import typer

from plinth.cli.context import console, fail, state
from plinth.cli.render import experiments_table
from plinth.entities.tracking import ViewType
from plinth.errors import PlinthError

app = typer.Typer(help="Experiments.", no_args_is_help=True)
Project = Annotated[str, typer.Option(help="Project name.")]


@app.command("list")
def list_(
    ctx: typer.Context,
    project: Annotated[str | None, typer.Option(help="Only this project.")] = None,
    view: Annotated[ViewType, typer.Option(help="active, deleted or all.")] = ViewType.ACTIVE,
    max_results: Annotated[int, typer.Option(min=1, max=10_000)] = 100,
) -> None:
    """List experiments, newest first."""
    try:
        page = state(ctx).platform.tracking.store.list_experiments(project, view, max_results)
    except PlinthError as exc:
        fail(exc)
    console.print(experiments_table(page.items))


@app.command()
def create(
    ctx: typer.Context,
    name: str,
    project: Project = "default",
    description: Annotated[str, typer.Option(help="What it is for.")] = "",
) -> None:
    """Create an experiment and print its id."""
    try:
        experiment = state(ctx).platform.tracking.create_experiment(name, project, description)
    except PlinthError as exc:
        fail(exc)
    console.print(experiment.id)


@app.command()
def delete(ctx: typer.Context, experiment_id: str) -> None:
    """Delete an experiment (its runs leave listings; restore brings them back)."""
    try:
        state(ctx).platform.tracking.store.delete_experiment(experiment_id)
    except PlinthError as exc:
        fail(exc)
    console.print(f"deleted experiment {experiment_id}")
