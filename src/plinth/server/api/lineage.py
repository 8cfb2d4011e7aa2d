"""Lineage: the graph around a data set, run, model version or alias, in one call."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from plinth.entities.lineage import Direction, LineageGraph
from plinth.entities.tracking import Text
from plinth.registry.lineage import MAX_DEPTH
from plinth.server.deps import RegistryDep
from plinth.server.routing import OrjsonRoute

router = APIRouter(tags=["lineage"], route_class=OrjsonRoute)


@router.get("/lineage")
def lineage(
    registry: RegistryDep,
    uri: Annotated[Text, Query(min_length=4, max_length=1000)],
    direction: Direction = Direction.BOTH,
    depth: Annotated[int, Query(ge=1, le=MAX_DEPTH)] = MAX_DEPTH,
) -> LineageGraph:
    """Nodes and edges ``depth`` steps up (what ``uri`` was made from), down (what depends
    on it) or both: ``dataset:PROJECT/NAME@DIGEST``, ``run:ID``, ``models:/NAME/V``,
    ``models:/NAME@ALIAS``."""
    return registry.store.lineage(uri, direction, depth)
