"""The artifact browser of the run page: folders to walk through and a preview of the file
chosen (text, CSV, JSON, images), read only as far as the preview needs."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from plinth.artifacts.sql import SqlRunArtifactStore
from plinth.entities.artifacts import ArtifactInfo
from plinth.errors import PlinthError
from plinth.server.deps import ArtifactsDep
from plinth.server.ui.templating import render

router = APIRouter(include_in_schema=False)

TEXT_LIMIT = 64 * 1024
"""Bytes of a text file shown."""
CSV_ROWS = 200
CSV_READ_LIMIT = 1024 * 1024
JSON_LIMIT = 2 * 1024 * 1024
"""A JSON file up to this size is parsed and pretty-printed; a larger one is shown as text."""

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".webp", ".svg", ".bmp", ".avif", ".ico"}
CSV_SUFFIXES = {".csv": ",", ".tsv": "\t"}
JSON_SUFFIXES = {".json", ".ipynb", ".geojson"}
TEXT_SUFFIXES = {
    ".txt", ".log", ".md", ".rst", ".py", ".yaml", ".yml", ".toml", ".ini", ".cfg", ".conf",
    ".sh", ".jsonl", ".ndjson", ".xml", ".html", ".css", ".js", ".ts", ".sql", ".r", ".java",
    ".c", ".h", ".cpp", ".go", ".rs", ".env", ".properties",
}  # fmt: skip
PreviewKind = Literal["text", "csv", "json", "image", "binary"]


@dataclass
class Preview:
    """What the preview pane shows for one file."""

    info: ArtifactInfo
    kind: PreviewKind
    text: str = ""
    rows: list[list[str]] = field(default_factory=list)
    truncated: bool = False
    note: str = ""


def read_head(store: SqlRunArtifactStore, run_id: str, path: str, limit: int) -> tuple[bytes, bool]:
    """The first ``limit`` bytes of a file and whether there was more; stops reading (and
    closes the blob) as soon as it has enough."""
    chunks = store.download(run_id, path)
    buffer = bytearray()
    try:
        for chunk in chunks:
            buffer.extend(chunk)
            if len(buffer) > limit:
                return bytes(buffer[:limit]), True
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()
    return bytes(buffer), False


def looks_like_text(head: bytes) -> bool:
    """No NUL bytes and valid UTF-8 (a cut multi-byte character at the end is forgiven)."""
    sample = head[:8192]
    if b"\x00" in sample:
        return False
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start >= len(sample) - 3
    return True


def _decode(data: bytes, truncated: bool) -> str:
    text = data.decode("utf-8", errors="replace")
    if truncated and "\n" in text:
        text = text[: text.rindex("\n") + 1]  # no half line at the cut
    return text


def build_preview(store: SqlRunArtifactStore, run_id: str, info: ArtifactInfo) -> Preview:
    """Decide by the file's suffix, then by sniffing its first bytes; never read more than
    the preview shows (images are not read at all: the browser fetches them)."""
    suffix = PurePosixPath(info.path).suffix.lower()
    if suffix in IMAGE_SUFFIXES:
        return Preview(info, "image")
    if suffix in CSV_SUFFIXES:
        data, truncated = read_head(store, run_id, info.path, CSV_READ_LIMIT)
        reader = csv.reader(io.StringIO(_decode(data, truncated)), delimiter=CSV_SUFFIXES[suffix])
        rows: list[list[str]] = []
        for row in reader:
            if len(rows) > CSV_ROWS:  # the header and CSV_ROWS rows
                truncated = True
                break
            rows.append(row)
        return Preview(info, "csv", rows=rows, truncated=truncated)
    if suffix in JSON_SUFFIXES and (info.size or 0) <= JSON_LIMIT:
        data, truncated = read_head(store, run_id, info.path, JSON_LIMIT)
        try:
            pretty = json.dumps(json.loads(data), indent=2, ensure_ascii=False)
        except ValueError:
            cut = truncated or len(data) > TEXT_LIMIT
            text = _decode(data[:TEXT_LIMIT], cut)
            return Preview(info, "text", text=text, truncated=cut, note="Not valid JSON.")
        cut = len(pretty) > TEXT_LIMIT
        return Preview(info, "json", text=pretty[:TEXT_LIMIT], truncated=cut)
    data, truncated = read_head(store, run_id, info.path, TEXT_LIMIT)
    if suffix in TEXT_SUFFIXES or suffix in JSON_SUFFIXES or looks_like_text(data):
        return Preview(info, "text", text=_decode(data, truncated), truncated=truncated)
    return Preview(info, "binary")


def breadcrumbs(path: str) -> list[tuple[str, str]]:
    """``a/b/c`` -> ``[("a", "a"), ("b", "a/b"), ("c", "a/b/c")]``: (label, path) pairs."""
    parts = [p for p in path.split("/") if p]
    return [(part, "/".join(parts[: i + 1])) for i, part in enumerate(parts)]


def listing_context(store: SqlRunArtifactStore, run_id: str, path: str) -> dict[str, object]:
    """What ``_artifacts.html`` needs for one folder: its entries, folders first."""
    entries = sorted(store.list(run_id, path), key=lambda e: (not e.is_dir, e.path))
    return {
        "run_id": run_id,
        "path": path,
        "entries": entries,
        "crumbs": breadcrumbs(path),
        "parent": path.rpartition("/")[0] if path else None,
    }


ArtifactPath = Annotated[str, Query(max_length=1024)]


@router.get("/runs/{run_id}/artifacts")
def artifact_folder(
    request: Request, run_id: str, artifacts: ArtifactsDep, path: ArtifactPath = ""
) -> Response:
    """One folder of the browser (an htmx fragment)."""
    try:
        context = listing_context(artifacts, run_id, path.strip("/"))
    except PlinthError as exc:
        return render(request, "_artifact_error.html", {"message": exc.detail})
    return render(request, "_artifacts.html", context)


@router.get("/runs/{run_id}/artifact-preview")
def artifact_preview(
    request: Request, run_id: str, artifacts: ArtifactsDep, path: ArtifactPath
) -> Response:
    """The preview pane for one file (an htmx fragment)."""
    try:
        preview = build_preview(artifacts, run_id, artifacts.stat(run_id, path))
    except PlinthError as exc:  # unknown path, corrupt blob: say so in the pane
        return render(request, "_artifact_error.html", {"message": exc.detail})
    return render(request, "_artifact_preview.html", {"run_id": run_id, "preview": preview})
