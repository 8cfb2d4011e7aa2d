"""Run artifacts: streamed up and down, never held whole in memory; direct links to object
storage where the backend has them."""

from __future__ import annotations

from functools import partial
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Path, Query, Request, status
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from plinth.artifacts.sql import MAX_DIRECT_UPLOAD_SECONDS, MAX_LINK_SECONDS
from plinth.entities.artifacts import (
    ArtifactInfo,
    ArtifactLink,
    DirectUpload,
    DirectUploadCommit,
)
from plinth.entities.tracking import Id
from plinth.server.deps import ArtifactsDep
from plinth.server.routing import OrjsonRoute
from plinth.server.streaming import media_type_for
from plinth.server.transfer import read_ahead, with_request_body

router = APIRouter(tags=["artifacts"], route_class=OrjsonRoute)

RunIdPath = Id


@router.put("/runs/{run_id}/artifacts/{path:path}")
async def upload_artifact(
    run_id: RunIdPath, path: str, request: Request, artifacts: ArtifactsDep
) -> ArtifactInfo:
    """The request body is the file's bytes. A file that can run code when loaded (pickle,
    joblib, PyTorch) is scanned first; an unsafe one is a 422 listing what was found."""
    return await with_request_body(request, partial(artifacts.upload, run_id, path))


@router.get("/runs/{run_id}/artifacts")
def list_artifacts(
    run_id: RunIdPath,
    artifacts: ArtifactsDep,
    path: Annotated[str, Query(max_length=1024)] = "",
) -> list[ArtifactInfo]:
    return artifacts.list(run_id, path)


@router.get("/runs/{run_id}/artifacts/{path:path}")
def download_artifact(run_id: RunIdPath, path: str, artifacts: ArtifactsDep) -> StreamingResponse:
    """The file's bytes, verified against its digest while they are sent: a corrupt blob
    is cut short of its Content-Length, so no client mistakes it for a whole file."""
    info = artifacts.stat(run_id, path)
    chunks = artifacts.download(run_id, info.path)
    return StreamingResponse(
        read_ahead(chunks),
        media_type=media_type_for(info.path),
        headers=download_headers(info.path, info.size or 0, info.digest or ""),
    )


@router.get("/runs/{run_id}/artifact-links/{path:path}")
def link_artifact(
    run_id: RunIdPath,
    path: str,
    artifacts: ArtifactsDep,
    expires_seconds: Annotated[int, Query(ge=1, le=MAX_LINK_SECONDS)] = 900,
) -> ArtifactLink:
    """A presigned URL to read the file straight from object storage (S3); a 409 when the
    artifact storage has no such links (a local folder)."""
    return artifacts.link(run_id, path, expires_seconds)


class DirectUploadRequest(BaseModel):
    expires_seconds: int = Field(default=900, ge=1, le=MAX_DIRECT_UPLOAD_SECONDS)


@router.post("/runs/{run_id}/direct-uploads", status_code=status.HTTP_201_CREATED)
def start_direct_upload(
    run_id: RunIdPath, spec: DirectUploadRequest, artifacts: ArtifactsDep
) -> DirectUpload:
    """A presigned URL to PUT a file's bytes straight into object storage (S3), so large
    files need not pass through the server; a 409 when the storage is a local folder."""
    return artifacts.direct_upload(run_id, spec.expires_seconds)


@router.post("/runs/{run_id}/direct-uploads/{token}", status_code=status.HTTP_201_CREATED)
def commit_direct_upload(
    run_id: RunIdPath,
    token: Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")],
    commit: DirectUploadCommit,
    artifacts: ArtifactsDep,
) -> ArtifactInfo:
    """Make what was PUT the file at ``path``: hashed (and checked against ``digest`` when
    given) and scanned by the server, exactly as an upload through it would be."""
    return artifacts.commit_direct_upload(run_id, token, commit.path, commit.digest)


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
        headers["Content-Disposition"] = attachment(path.rsplit("/", 1)[-1])
    return headers


def attachment(name: str) -> str:
    """``Content-Disposition`` for any file name: an ASCII stand-in for old clients, the
    exact name as RFC 5987 ``filename*`` (header values are Latin-1 at most)."""
    fallback = "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\' else "_" for ch in name)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"
