"""The model version page: what the version is (signature, flavor, digest, scan), what it
measured, the files of its model directory, and its lineage drawn as a graph."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from fastapi import APIRouter, Request
from starlette.responses import Response

from plinth.entities.artifacts import ArtifactInfo
from plinth.entities.lineage import Direction, LineageGraph
from plinth.entities.models import MANIFEST_FILE, ModelManifest
from plinth.entities.registry import MAX_VERSION
from plinth.errors import InvalidArgument, NotFound, PlinthError
from plinth.registry.manifest import read_manifest
from plinth.registry.uris import run_uri
from plinth.server.deps import ArtifactsDep, RegistryDep
from plinth.server.ui.artifacts import read_head
from plinth.server.ui.lineage_svg import layout
from plinth.server.ui.run_detail import not_found
from plinth.server.ui.templating import render

router = APIRouter(include_in_schema=False)

MAX_FILES = 500
"""Files of a model directory listed at most."""
MANIFEST_LIMIT = 1024 * 1024
LINEAGE_DEPTH = 3
"""Enough for data set -> run -> version -> alias seen from the version."""


@dataclass(frozen=True)
class ModelFiles:
    files: list[ArtifactInfo]
    truncated: bool = False
    error: str = ""


def model_files(store: ArtifactsDep, run_id: str, folder: str) -> ModelFiles:
    """Every file under the model's folder of the run (walked folder by folder)."""
    files: list[ArtifactInfo] = []
    pending = [folder]
    try:
        while pending:
            for entry in store.list(run_id, pending.pop(0)):
                if entry.is_dir:
                    pending.append(entry.path)
                    continue
                files.append(entry)
                if len(files) >= MAX_FILES:
                    return ModelFiles(sorted(files, key=lambda f: f.path), truncated=True)
    except PlinthError as exc:  # a deleted run, a path gone: the rest of the page still shows
        return ModelFiles([], error=exc.detail)
    return ModelFiles(sorted(files, key=lambda f: f.path))


def model_manifest(
    store: ArtifactsDep, run_id: str, folder: str
) -> tuple[ModelManifest | None, str]:
    """The manifest as stored (for its scan findings and requirements) and its sha256 digest,
    or ``None`` and ``""`` when it cannot be read."""
    try:
        data, truncated = read_head(store, run_id, f"{folder}/{MANIFEST_FILE}", MANIFEST_LIMIT)
        if truncated:
            return None, ""
        return read_manifest(data), hashlib.sha256(data).hexdigest()
    except PlinthError:
        return None, ""


def lineage_of(registry: RegistryDep, uri: str) -> tuple[LineageGraph | None, str]:
    try:
        return registry.lineage(uri, direction=Direction.BOTH, depth=LINEAGE_DEPTH), ""
    except PlinthError as exc:
        return None, exc.detail


@router.get("/models/{name}/versions/{version}")
def version_page(
    request: Request, name: str, version: str, registry: RegistryDep, artifacts: ArtifactsDep
) -> Response:
    number = int(version) if version.isascii() and version.isdigit() else 0
    if not 1 <= number <= MAX_VERSION:
        return not_found(request, f"{version!r} is not a version number", "models")
    try:
        found = registry.store.get_version(name, number)
    except (NotFound, InvalidArgument) as exc:
        return not_found(request, exc.detail, "models")
    manifest, manifest_digest = model_manifest(artifacts, found.run_id, found.artifact_path)
    graph, lineage_error = lineage_of(registry, found.uri)
    nodes = {node.uri: node for node in graph.nodes} if graph else {}
    run_node = nodes.get(run_uri(found.run_id))
    root = str(request.scope.get("root_path", "")).rstrip("/")
    return render(
        request,
        "model_version.html",
        {
            "model_version": found,
            "manifest": manifest,
            "manifest_matches": manifest_digest == found.digest,
            "files": model_files(artifacts, found.run_id, found.artifact_path),
            "run_name": run_node.label if run_node else found.run_id,
            "run_missing": bool(run_node and run_node.attributes.get("missing")),
            "drawing": layout(graph, root) if graph else None,
            "lineage_error": lineage_error,
        },
        section="models",
    )
