"""Lineage edges from the registry's tables and the tracking service.

data set -> run: the run's inputs, both ways through the tracking service (looking down
from a data set, a search on ``datasets.digest``); run -> version: the version's source run;
version -> alias: the aliases that point at it.
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import Connection, select

from plinth.db.engine import Database
from plinth.db.tables.registry import model_aliases, model_versions
from plinth.entities.limits import MAX_RESULTS
from plinth.entities.lineage import LineageEdge, LineageNode, NodeKind
from plinth.entities.registry import ModelVersion
from plinth.entities.tracking import Run, RunQuery, ViewType
from plinth.errors import NotFound
from plinth.registry import sql_rows
from plinth.registry.lineage import MAX_NODES
from plinth.registry.sources import SourceReader
from plinth.registry.uris import (
    alias_uri,
    dataset_uri,
    parse_dataset_uri,
    parse_model_uri,
    parse_run_node,
    run_uri,
)
from plinth.tracking.search import quote

Neighbors = list[tuple[LineageNode, LineageEdge]]


class SqlLineageReader:
    """Implements ``lineage.LineageReader``; caches the runs it reads during one walk."""

    def __init__(self, database: Database, sources: SourceReader) -> None:
        self.database = database
        self.sources = sources
        self._runs: dict[str, Run | None] = {}

    # nodes ------------------------------------------------------------------------------

    def node(self, uri: str) -> LineageNode:
        if uri.startswith("dataset:"):
            return _dataset_node(*parse_dataset_uri(uri))
        if uri.startswith(("run:", "runs:/")):
            run_id = parse_run_node(uri)
            if self._run(run_id) is None:
                raise NotFound(f"run {run_id!r} does not exist")
            return self._run_node(run_id)
        ref = parse_model_uri(uri)
        with self.database.read() as conn:
            if ref.alias is not None:
                version = sql_rows.holder_of(conn, ref.name, ref.alias)
                if version is None:
                    sql_rows.get_model_row(conn, ref.name)
                    raise NotFound(f"model {ref.name!r} has no alias @{ref.alias}")
                return _alias_node(ref.name, ref.alias, version)
            number = ref.version or _latest(conn, ref.name)
            return _version_node(sql_rows.get_version(conn, ref.name, number))

    def _run(self, run_id: str) -> Run | None:
        if run_id not in self._runs:
            try:
                self._runs[run_id] = self.sources.get_run(run_id)
            except NotFound:
                self._runs[run_id] = None
        return self._runs[run_id]

    def _run_node(self, run_id: str) -> LineageNode:
        run = self._run(run_id)
        attributes = {"missing": "true"} if run is None else {"status": run.status.value}
        if run is not None:
            attributes["experiment_id"] = run.experiment_id
        label = run.name if run is not None else run_id
        return LineageNode(
            uri=run_uri(run_id), kind=NodeKind.RUN, label=label, attributes=attributes
        )

    # edges ------------------------------------------------------------------------------

    def upstream(self, node: LineageNode) -> Neighbors:
        if node.kind is NodeKind.ALIAS:
            name, version = node.attributes["model"], int(node.attributes["version"])
            with self.database.read() as conn:
                found = sql_rows.get_version(conn, name, version)
            source = _version_node(found)
            return [(source, LineageEdge(source=source.uri, target=node.uri, relation="alias"))]
        if node.kind is NodeKind.MODEL_VERSION:
            run = self._run_node(node.attributes["run_id"])
            return [(run, LineageEdge(source=run.uri, target=node.uri, relation="produced"))]
        if node.kind is NodeKind.RUN:
            found_run = self._run(parse_run_node(node.uri))
            if found_run is None:
                return []
            result = []
            for item in found_run.inputs:
                data = _dataset_node(found_run.project, item.name, item.digest)
                edge = LineageEdge(
                    source=data.uri,
                    target=node.uri,
                    relation="input",
                    attributes={"context": item.context},
                )
                result.append((data, edge))
            return result
        return []

    def downstream(self, node: LineageNode) -> Neighbors:
        if node.kind is NodeKind.DATASET:
            return self._runs_reading(node)
        with self.database.read() as conn:
            if node.kind is NodeKind.RUN:
                rows = conn.execute(
                    select(model_versions)
                    .where(model_versions.c.run_id == parse_run_node(node.uri))
                    .order_by(model_versions.c.model, model_versions.c.version)
                ).all()
                versions = [_version_node(v) for v in sql_rows.load_versions(conn, rows)]
                return [
                    (v, LineageEdge(source=node.uri, target=v.uri, relation="produced"))
                    for v in versions
                ]
            if node.kind is NodeKind.MODEL_VERSION:
                name, version = node.attributes["model"], int(node.attributes["version"])
                aliases = conn.execute(
                    select(model_aliases.c.alias)
                    .where(model_aliases.c.model == name, model_aliases.c.version == version)
                    .order_by(model_aliases.c.alias)
                ).scalars()
                targets = [_alias_node(name, alias, version) for alias in aliases]
                return [
                    (a, LineageEdge(source=node.uri, target=a.uri, relation="alias"))
                    for a in targets
                ]
        return []

    def _runs_reading(self, node: LineageNode) -> Neighbors:
        """Runs that read this data set (any lifecycle stage), found by the tracking
        service's search: ``datasets.digest = ... and datasets.name = ...``."""
        project, name, digest = parse_dataset_uri(node.uri)
        query = RunQuery(
            project=project,
            filter=f"datasets.digest = {quote(digest)} and datasets.name = {quote(name)}",
            order_by=["start_time", "id"],
            max_results=min(MAX_RESULTS, MAX_NODES),
            view=ViewType.ALL,
        )
        result = []
        for run in self._search(query, limit=MAX_NODES):
            self._runs[run.id] = run
            for item in run.inputs:
                if (item.name, item.digest) == (name, digest):
                    edge = LineageEdge(
                        source=node.uri,
                        target=run_uri(run.id),
                        relation="input",
                        attributes={"context": item.context},
                    )
                    result.append((self._run_node(run.id), edge))
        return result

    def _search(self, query: RunQuery, limit: int) -> Iterator[Run]:
        found = 0
        while found < limit:
            page = self.sources.tracking.store.search_runs(query)
            yield from page.items[: limit - found]
            found += len(page.items)
            if page.next_page_token is None:
                return
            query = query.model_copy(update={"page_token": page.next_page_token})


def _latest(conn: Connection, name: str) -> int:
    row = sql_rows.get_model_row(conn, name)
    if not row.version_counter:
        raise NotFound(f"model {name!r} has no versions")
    return int(row.version_counter)


def _dataset_node(project: str, name: str, digest: str) -> LineageNode:
    return LineageNode(
        uri=dataset_uri(project, name, digest),
        kind=NodeKind.DATASET,
        label=name,
        attributes={"project": project, "digest": digest},
    )


def _version_node(version: ModelVersion) -> LineageNode:
    return LineageNode(
        uri=version.uri,
        kind=NodeKind.MODEL_VERSION,
        label=f"{version.name} v{version.version}",
        attributes={
            "model": version.name,
            "version": str(version.version),
            "run_id": version.run_id,
            "flavor": version.flavor,
            "status": version.status.value,
            "digest": version.digest,
        },
    )


def _alias_node(name: str, alias: str, version: int) -> LineageNode:
    return LineageNode(
        uri=alias_uri(name, alias),
        kind=NodeKind.ALIAS,
        label=f"{name}@{alias}",
        attributes={"model": name, "alias": alias, "version": str(version)},
    )
