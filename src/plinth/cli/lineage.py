"""``plinth lineage URI``: what a data set, run, model version or alias came from and what
depends on it, as a tree."""

from __future__ import annotations

from typing import Annotated

import typer

from plinth.cli.context import console, fail, state
from plinth.cli.registry_render import lineage_tree
from plinth.entities.lineage import Direction
from plinth.errors import PlinthError
from plinth.registry.lineage import MAX_DEPTH


def lineage(
    ctx: typer.Context,
    uri: Annotated[
        str,
        typer.Argument(
            help="dataset:PROJECT/NAME@DIGEST, run:ID, models:/NAME/VERSION or models:/NAME@ALIAS"
        ),
    ],
    depth: Annotated[int, typer.Option(min=1, max=MAX_DEPTH, help="Steps to walk.")] = MAX_DEPTH,
    direction: Annotated[Direction, typer.Option(help="up, down or both.")] = Direction.BOTH,
) -> None:
    """Upstream (what URI was made from) and downstream (what depends on it)."""
    try:
        graph = state(ctx).platform.registry.lineage(uri, direction=direction, depth=depth)
    except PlinthError as exc:
        fail(exc)
    console.print(lineage_tree(graph))
