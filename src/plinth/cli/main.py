"""``plinth``: the root command. Each command group lives in its own module."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from plinth import __version__
from plinth.cli import artifacts, db, experiments, lineage, models, runs, server, sync
from plinth.cli.context import state

app = typer.Typer(
    name="plinth",
    help="plinth: experiment tracking, artifacts and models on one platform.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"plinth {__version__}")
        raise typer.Exit


@app.callback()
def root(
    ctx: typer.Context,
    url: Annotated[
        str | None, typer.Option(envvar="PLINTH_URL", help="plinth server URL (else local mode).")
    ] = None,
    data_dir: Annotated[
        Path | None, typer.Option(envvar="PLINTH_DATA_DIR", help="Data dir for local mode.")
    ] = None,
    _version_flag: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print version.")
    ] = False,
) -> None:
    overrides = state(ctx).overrides
    if url:
        overrides["url"] = url
    if data_dir:
        overrides["data_dir"] = data_dir


app.command("server")(server.serve)
app.add_typer(db.app, name="db")
app.add_typer(experiments.app, name="experiments")
app.add_typer(runs.app, name="runs")
app.add_typer(artifacts.app, name="artifacts")
app.add_typer(models.app, name="models")
app.command("lineage")(lineage.lineage)
app.command("sync")(sync.sync)


if __name__ == "__main__":
    app()
