"""Run artifacts: streamed up and down, never held whole in memory."""

from __future__ import annotations

from typing import Annotated, BinaryIO, cast

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from plinth.entities.artifacts import ArtifactInfo
from plinth.entities.tracking import Id
from plinth.server.deps import ArtifactsDep
from plinth.server.routing import OrjsonRoute
from plinth.server.streaming import BlockingBodyReader, media_type_for

router = APIRouter(tags=["artifacts"], route_class=OrjsonRoute)

RunIdPath = Id


@router.put("/runs/{run_id}/artifacts/{path:path}")
async def upload_artifact(
    run_id: RunIdPath, path: str, request: Request, artifacts: ArtifactsDep
) -> ArtifactInfo:
    """The request body is the file's bytes."""
    reader = cast(BinaryIO, BlockingBodyReader(request))
    return await run_in_threadpool(artifacts.upload, run_id, path, reader)


@router.get("/runs/{run_id}/artifacts")
def list_artifacts(
    run_id: RunIdPath,
    artifacts: ArtifactsDep,
    path: Annotated[str, Query(max_length=1024)] = "",
) -> list[ArtifactInfo]:
    return artifacts.list(run_id, path)


@router.get("/runs/{run_id}/artifacts/{path:path}")
def download_artifact(run_id: RunIdPath, path: str, artifacts: ArtifactsDep) -> StreamingResponse:
    info = artifacts.stat(run_id, path)
    chunks = artifacts.download(run_id, info.path)
    return StreamingResponse(
        chunks,
        media_type=media_type_for(info.path),
        headers=download_headers(info.path, info.size or 0, info.digest or ""),
    )


_ACTIVE_CONTENT = ("text/html", "image/svg+xml", "application/xhtml+xml", "text/xml")


def download_headers(path: str, size: int, digest: str) -> dict[str, str]:
    """Artifacts are user content served from plinth's origin: the browser must never run
    them. Everything is sandboxed and not sniffed; markup that could script is an attachment."""
    headers = {
        "Content-Length": str(size),
        "ETag": f'"{digest}"',
        "X-Plinth-Digest": f"sha256:{digest}",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "sandbox",
    }
    if media_type_for(path).startswith(_ACTIVE_CONTENT):
        name = path.rsplit("/", 1)[-1].replace('"', "")
        headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return headers
