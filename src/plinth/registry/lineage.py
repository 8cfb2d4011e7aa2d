"""Lineage as a walk: from one node, up to what it was made from and down to what depends on
it, a given number of steps. Where the edges come from is a ``LineageReader``'s business
(``sql_lineage.SqlLineageReader`` reads the registry and the tracking service)."""

from __future__ import annotations

from typing import Protocol

from plinth.entities.lineage import Direction, LineageEdge, LineageGraph, LineageNode

MAX_DEPTH = 100
MAX_NODES = 5_000
"""A walk stops (``truncated``) rather than return an unbounded graph."""


class LineageReader(Protocol):
    def node(self, uri: str) -> LineageNode:
        """The node a URI names; ``NotFound`` when it names nothing."""
        ...

    def upstream(self, node: LineageNode) -> list[tuple[LineageNode, LineageEdge]]:
        """What ``node`` was made from, with the edges into it."""
        ...

    def downstream(self, node: LineageNode) -> list[tuple[LineageNode, LineageEdge]]:
        """What was made from ``node``, with the edges out of it."""
        ...


def walk(reader: LineageReader, uri: str, direction: Direction, depth: int) -> LineageGraph:
    """Breadth-first from ``uri``: ``up`` and ``down`` walk one way, ``both`` walks each
    way from the root (ancestors and descendants, not their other branches)."""
    root = reader.node(uri)
    nodes: dict[str, LineageNode] = {root.uri: root}
    edges: dict[tuple[str, str, str], LineageEdge] = {}
    truncated = False
    ways = (Direction.UP, Direction.DOWN) if direction is Direction.BOTH else (direction,)
    for way in ways:
        step = reader.upstream if way is Direction.UP else reader.downstream
        visited = {root.uri}
        frontier = [root]
        for _ in range(depth):
            found: list[LineageNode] = []
            for node in frontier:
                for neighbor, edge in step(node):
                    edges.setdefault((edge.source, edge.target, edge.relation), edge)
                    if neighbor.uri in visited:
                        continue
                    if len(nodes) >= MAX_NODES and neighbor.uri not in nodes:
                        truncated = True
                        continue
                    visited.add(neighbor.uri)
                    nodes.setdefault(neighbor.uri, neighbor)
                    found.append(neighbor)
            frontier = found
            if not frontier:
                break
    kept = {
        key: edge for key, edge in edges.items() if edge.source in nodes and edge.target in nodes
    }
    return LineageGraph(
        root=root.uri,
        direction=direction,
        depth=depth,
        nodes=list(nodes.values()),
        edges=list(kept.values()),
        truncated=truncated,
    )
