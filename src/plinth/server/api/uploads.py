"""Resumable uploads of big files: start, send parts (each streamed, each replaceable), look
at what arrived (to resume after a cut), complete (the file appears in the run) or abort."""

from __future__ import annotations

from functools import partial
from typing import Annotated

from fastapi import APIRouter, Path, Request, status

from plinth.entities.artifacts import (
    MAX_UPLOAD_PARTS,
    ArtifactInfo,
    Upload,
    UploadCreate,
    UploadPart,
)
from plinth.entities.tracking import Id
from plinth.server.deps import ArtifactsDep
from plinth.server.routing import OrjsonRoute
from plinth.server.transfer import with_request_body

router = APIRouter(tags=["artifacts"], route_class=OrjsonRoute)

PartNumber = Annotated[int, Path(ge=1, le=MAX_UPLOAD_PARTS)]


@router.post("/runs/{run_id}/uploads", status_code=status.HTTP_201_CREATED)
def start_upload(run_id: Id, spec: UploadCreate, artifacts: ArtifactsDep) -> Upload:
    return artifacts.start_upload(run_id, spec.path, spec.size)


@router.get("/uploads/{upload_id}")
def get_upload(upload_id: Id, artifacts: ArtifactsDep) -> Upload:
    """The upload and the parts received so far: a client resuming sends the others."""
    return artifacts.get_upload(upload_id)


@router.put("/uploads/{upload_id}/parts/{number}")
async def upload_part(
    upload_id: Id, number: PartNumber, request: Request, artifacts: ArtifactsDep
) -> UploadPart:
    """The body is the part's bytes; sending a part again replaces it."""
    return await with_request_body(request, partial(artifacts.upload_part, upload_id, number))


@router.post("/uploads/{upload_id}/complete")
def complete_upload(upload_id: Id, artifacts: ArtifactsDep) -> ArtifactInfo:
    """Join parts 1..N into the file (hashed, scanned, stored once); completing again
    answers the same file."""
    return artifacts.complete_upload(upload_id)


@router.delete("/uploads/{upload_id}", status_code=status.HTTP_204_NO_CONTENT)
def abort_upload(upload_id: Id, artifacts: ArtifactsDep) -> None:
    artifacts.abort_upload(upload_id)
