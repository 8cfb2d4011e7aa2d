"""Rich rendering of registry objects: models, versions, gates, moves, requests, lineage."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from plinth.cli.render import number, plain, when
from plinth.entities.lineage import LineageGraph, LineageNode
from plinth.entities.registry import (
    AliasMove,
    GateResult,
    ModelVersion,
    PromotionRequest,
    RegisteredModel,
)
from plinth.entities.webhooks import Delivery, Webhook


def models_table(items: list[RegisteredModel]) -> Table:
    table = Table(title=f"Models ({len(items)})")
    for column in ("name", "project", "latest", "aliases", "owner", "updated"):
        table.add_column(column)
    for m in items:
        aliases = ", ".join(f"@{a}=v{v}" for a, v in m.aliases.items()) or "-"
        latest = f"v{m.latest_version}" if m.latest_version else "-"
        table.add_row(m.name, m.project, latest, aliases, m.owner, when(m.updated_at))
    return table


def model_detail(model: RegisteredModel) -> Table:
    info = Table(title=f"Model {model.name}", show_header=False)
    info.add_column("field", style="bold")
    info.add_column("value")
    rows = {
        "project": model.project,
        "owner": model.owner,
        "description": model.description or "-",
        "created": when(model.created_at),
        "aliases": ", ".join(f"@{a} -> v{v}" for a, v in model.aliases.items()) or "-",
        "tags": ", ".join(f"{k}={v}" for k, v in sorted(model.tags.items())) or "-",
    }
    for field, value in rows.items():
        info.add_row(field, value)
    return info


def versions_table(items: list[ModelVersion]) -> Table:
    keys = sorted({k for v in items for k in v.metrics})[:4]
    table = Table(title=f"Versions ({len(items)})")
    for column in ("version", "aliases", "status", "flavor", "scan", "run", "created", *keys):
        table.add_column(column, justify="right" if column in keys else "left")
    for v in items:
        metrics = [number(v.metrics.get(k)) for k in keys]
        table.add_row(
            f"v{v.version}",
            ", ".join(f"@{a}" for a in v.aliases) or "-",
            v.status.value,
            v.flavor,
            v.scan.value,
            v.run_id[:8],
            when(v.created_at),
            *metrics,
        )
    return table


def gate_results_table(results: list[GateResult], title: str = "Gates") -> Table:
    table = Table(title=title)
    for column in ("", "gate", "why"):
        table.add_column(column)
    for r in results:
        mark = Text("pass", style="green") if r.passed else Text("FAIL", style="bold red")
        table.add_row(mark, r.gate, r.reason)
    return table


def moves_table(items: list[AliasMove]) -> Table:
    table = Table(title=f"Alias moves ({len(items)})")
    for column in ("when", "alias", "from", "to", "kind", "who", "why", "gates"):
        table.add_column(column)
    for m in items:
        failed = [r.gate for r in m.gate_results if not r.passed]
        gates = (
            "-"
            if not m.gate_results
            else ("all passed" if not failed else "failed: " + "; ".join(failed))
        )
        table.add_row(
            when(m.at),
            f"@{m.alias}",
            f"v{m.from_version}" if m.from_version else "-",
            f"v{m.to_version}",
            m.kind.value,
            m.actor,
            m.reason or "-",
            gates,
        )
    return table


def requests_table(items: list[PromotionRequest]) -> Table:
    table = Table(title=f"Promotion requests ({len(items)})")
    table.add_column("id", no_wrap=True)
    for column in ("version", "alias", "status", "by", "when", "approvals", "failing"):
        table.add_column(column)
    for r in items:
        approvals = ", ".join(f"{a.actor}:{a.decision.value}" for a in r.approvals) or "-"
        failing = "; ".join(g.gate for g in r.gate_results if not g.passed) or "-"
        table.add_row(
            r.id,
            f"v{r.version}",
            f"@{r.alias}",
            r.status.value,
            r.created_by,
            when(r.created_at),
            approvals,
            failing,
        )
    return table


def webhooks_table(items: list[Webhook]) -> Table:
    table = Table(title=f"Webhooks ({len(items)})")
    table.add_column("id", no_wrap=True)
    table.add_column("url")
    table.add_column("events", no_wrap=True)
    table.add_column("model")
    for w in items:
        events = ", ".join(e.value.removeprefix("dev.plinth.registry.") for e in w.events)
        table.add_row(w.id, w.url, events or "all", plain(w.model))
    return table


def deliveries_table(items: list[Delivery]) -> Table:
    table = Table(title=f"Deliveries ({len(items)})")
    for column in ("created", "event", "subject", "status", "attempts", "last"):
        table.add_column(column)
    for d in items:
        last = d.attempts[-1] if d.attempts else None
        outcome = "-" if last is None else (last.error or f"HTTP {last.status_code}")
        table.add_row(
            when(d.created_at),
            d.event_type.removeprefix("dev.plinth.registry."),
            d.subject,
            d.status.value,
            str(len(d.attempts)),
            outcome,
        )
    return table


_STYLES = {"dataset": "cyan", "run": "yellow", "model_version": "green", "alias": "magenta"}


def lineage_tree(graph: LineageGraph) -> Tree:
    """The graph as two trees hanging off the root: what it came from (upstream, following
    edges backwards) and what came from it (downstream)."""
    nodes = {n.uri: n for n in graph.nodes}
    parents: dict[str, list[tuple[str, str]]] = {}
    children: dict[str, list[tuple[str, str]]] = {}
    for e in graph.edges:
        parents.setdefault(e.target, []).append((e.source, e.relation))
        children.setdefault(e.source, []).append((e.target, e.relation))
    root = Tree(_label(nodes[graph.root]))
    for title, links in (("upstream", parents), ("downstream", children)):
        if links.get(graph.root):
            branch = root.add(Text(title, style="dim"))
            _grow(branch, graph.root, links, nodes, {graph.root})
    if graph.truncated:
        root.add(Text("... (truncated)", style="dim"))
    return root


def _grow(
    branch: Tree,
    uri: str,
    links: dict[str, list[tuple[str, str]]],
    nodes: dict[str, LineageNode],
    path: set[str],
) -> None:
    for other, relation in sorted(links.get(uri, [])):
        if other in path or other not in nodes:
            continue
        child = branch.add(Text.assemble((f"{relation}: ", "dim"), _label(nodes[other])))
        _grow(child, other, links, nodes, path | {other})


def _label(node: LineageNode) -> Text:
    return Text.assemble((node.uri, _STYLES.get(node.kind.value, "")), f"  {node.label}")
