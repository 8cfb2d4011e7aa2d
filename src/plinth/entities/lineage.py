"""Lineage: the graph of what was made from what (data set -> run -> model version -> alias)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from plinth.entities.common import Entity


class NodeKind(StrEnum):
    DATASET = "dataset"
    RUN = "run"
    MODEL_VERSION = "model_version"
    ALIAS = "alias"


class Direction(StrEnum):
    UP = "up"
    """Towards what a node was made from (a version's run, the run's data)."""
    DOWN = "down"
    """Towards what depends on a node (a run's versions, a version's aliases)."""
    BOTH = "both"


class LineageNode(Entity):
    """A node named by its URI: ``dataset:PROJECT/NAME@DIGEST``, ``run:ID``,
    ``models:/NAME/VERSION`` or ``models:/NAME@ALIAS``."""

    uri: str
    kind: NodeKind
    label: str
    attributes: dict[str, str] = Field(default_factory=dict)


class LineageEdge(Entity):
    """``source`` flowed into ``target``: data into a run, a run into a version, a version
    into an alias."""

    source: str
    target: str
    relation: str = Field(description="input, produced or alias")
    attributes: dict[str, str] = Field(default_factory=dict)


class LineageGraph(Entity):
    root: str
    direction: Direction
    depth: int
    nodes: list[LineageNode]
    edges: list[LineageEdge]
    truncated: bool = Field(default=False, description="The node limit cut the walk short.")
