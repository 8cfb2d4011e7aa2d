"""A lineage graph laid out for drawing: data sets, runs, model versions and aliases in
layers from left to right, each node a box that links to its page and each edge a curve.

The layout is computed here and drawn by ``_model_lineage.html`` as inline SVG (so Jinja's
autoescaping covers every label); no JavaScript graph library is needed for graphs this
shape: every edge goes one layer to the right."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from urllib.parse import quote

from plinth.entities.lineage import LineageEdge, LineageGraph, LineageNode, NodeKind

LAYERS = (NodeKind.DATASET, NodeKind.RUN, NodeKind.MODEL_VERSION, NodeKind.ALIAS)
"""Left to right: what was read, what ran, what it made, what points at it."""
NODE_WIDTH = 210
NODE_HEIGHT = 46
COLUMN_GAP = 70
ROW_GAP = 14
PADDING = 8
LABEL_CHARS = 26
"""A label longer than this is cut (the full text is the node's tooltip)."""
MAX_PER_LAYER = 40
"""Nodes drawn per layer at most; the rest are counted in a note."""


@dataclass(frozen=True)
class PlacedNode:
    uri: str
    kind: str
    x: int
    y: int
    label: str
    detail: str
    title: str
    href: str | None
    is_root: bool


@dataclass(frozen=True)
class PlacedEdge:
    path: str
    relation: str
    title: str


@dataclass(frozen=True)
class LineageDrawing:
    width: int
    height: int
    nodes: list[PlacedNode]
    edges: list[PlacedEdge]
    hidden: int
    """Nodes left out (``MAX_PER_LAYER``, or the walk's own limit when ``truncated``)."""
    truncated: bool
    node_width: int = NODE_WIDTH
    node_height: int = NODE_HEIGHT


def shorten(text: str, limit: int = LABEL_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def node_href(node: LineageNode, root: str) -> str | None:
    """The page of a node: runs and versions have one, an alias is a part of its model's
    page; data sets have no page yet."""
    model = quote(node.attributes.get("model", ""), safe="")
    if node.kind is NodeKind.RUN:
        return f"{root}/runs/{quote(node.uri.removeprefix('run:'), safe='')}"
    if node.kind is NodeKind.MODEL_VERSION:
        return f"{root}/models/{model}/versions/{quote(node.attributes['version'], safe='')}"
    if node.kind is NodeKind.ALIAS:
        return f"{root}/models/{model}#alias-{quote(node.attributes['alias'], safe='')}"
    return None


def node_detail(node: LineageNode) -> str:
    """The box's second line."""
    attributes = node.attributes
    if node.kind is NodeKind.DATASET:
        return f"dataset {attributes.get('digest', '')[:12]}"
    if node.kind is NodeKind.RUN:
        return "run (missing)" if attributes.get("missing") else f"run {attributes.get('status')}"
    if node.kind is NodeKind.MODEL_VERSION:
        return f"{attributes.get('flavor', '')} · {attributes.get('status', '')}"
    return f"alias \u2192 v{attributes.get('version', '')}"


def order_layers(graph: LineageGraph) -> list[list[LineageNode]]:
    """Nodes per non-empty layer; each layer after the first is sorted by the mean position
    of its parents in the layer before (fewer crossings), then by label."""
    by_kind: dict[NodeKind, list[LineageNode]] = defaultdict(list)
    for node in graph.nodes:
        by_kind[node.kind].append(node)
    parents: dict[str, list[str]] = defaultdict(list)
    for edge in graph.edges:
        parents[edge.target].append(edge.source)
    layers: list[list[LineageNode]] = []
    position: dict[str, int] = {}
    for kind in LAYERS:
        nodes = by_kind.get(kind, [])
        if not nodes:
            continue

        def rank(node: LineageNode) -> tuple[float, str, str]:
            seen = [position[p] for p in parents[node.uri] if p in position]
            return (sum(seen) / len(seen) if seen else -1.0, node.label, node.uri)

        ordered = sorted(nodes, key=rank)
        layers.append(ordered)
        position.update({node.uri: index for index, node in enumerate(ordered)})
    return layers


def curve(x1: int, y1: int, x2: int, y2: int) -> str:
    middle = (x1 + x2) // 2
    return f"M{x1},{y1} C{middle},{y1} {middle},{y2} {x2},{y2}"


def layout(graph: LineageGraph, root: str = "") -> LineageDrawing:
    """Place every node (``root`` is the UI's mount prefix, for the links)."""
    layers = [layer[:MAX_PER_LAYER] for layer in order_layers(graph)]
    hidden = len(graph.nodes) - sum(len(layer) for layer in layers)
    tallest = max((len(layer) for layer in layers), default=0)
    height = max(0, tallest * (NODE_HEIGHT + ROW_GAP) - ROW_GAP) + 2 * PADDING
    width = max(0, len(layers) * (NODE_WIDTH + COLUMN_GAP) - COLUMN_GAP) + 2 * PADDING
    placed: dict[str, PlacedNode] = {}
    for column, layer in enumerate(layers):
        x = PADDING + column * (NODE_WIDTH + COLUMN_GAP)
        span = len(layer) * (NODE_HEIGHT + ROW_GAP) - ROW_GAP
        top = (height - span) // 2  # each layer centred on the tallest
        for row, node in enumerate(layer):
            placed[node.uri] = PlacedNode(
                uri=node.uri,
                kind=node.kind.value,
                x=x,
                y=top + row * (NODE_HEIGHT + ROW_GAP),
                label=shorten(node.label),
                detail=shorten(node_detail(node), LABEL_CHARS + 6),
                title=f"{node.label}\n{node.uri}",
                href=node_href(node, root),
                is_root=node.uri == graph.root,
            )
    edges = [
        draw_edge(edge, placed[edge.source], placed[edge.target])
        for edge in graph.edges
        if edge.source in placed and edge.target in placed
    ]
    return LineageDrawing(
        width=width,
        height=height,
        nodes=list(placed.values()),
        edges=edges,
        hidden=hidden,
        truncated=graph.truncated,
    )


def draw_edge(edge: LineageEdge, source: PlacedNode, target: PlacedNode) -> PlacedEdge:
    middle = NODE_HEIGHT // 2
    path = curve(source.x + NODE_WIDTH, source.y + middle, target.x, target.y + middle)
    context = edge.attributes.get("context")
    relation = f"{edge.relation} ({context})" if context else edge.relation
    return PlacedEdge(path=path, relation=edge.relation, title=relation)
