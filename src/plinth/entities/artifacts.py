"""Artifacts: files stored by content digest and placed at paths of a run; resumable uploads
that become such files once complete; direct links; garbage collection reports."""

from __future__ import annotations

from pydantic import Field

from plinth.entities.common import Entity
from plinth.entities.models import ScanStatus

MAX_UPLOAD_PARTS = 10_000
"""Parts of one resumable upload, numbered 1 to this (S3's limit, so parts map onto it)."""


class ArtifactInfo(Entity):
    """A file (with its size and sha256) or a folder (``is_dir``) under a run's artifacts."""

    path: str
    is_dir: bool = False
    size: int | None = None
    digest: str | None = None
    scan_status: ScanStatus | None = Field(
        default=None,
        description="What the pickle scanner said when the file was stored (files only).",
    )


class UploadCreate(Entity):
    """Start a resumable upload of one file to ``path`` of a run."""

    path: str = Field(max_length=1024)
    size: int | None = Field(
        default=None,
        ge=0,
        le=2**63 - 1,
        description="Total bytes, if known: completion checks it.",
    )


class UploadPart(Entity):
    """A part the server holds; a part sent again replaces the earlier one."""

    number: int = Field(ge=1, le=MAX_UPLOAD_PARTS)
    size: int


class Upload(Entity):
    """A resumable upload: nothing appears in the run's artifacts until it is completed."""

    id: str
    run_id: str
    path: str
    size: int | None = None
    state: str = Field(description="open, or completed (completing again is harmless).")
    parts: list[UploadPart] = Field(default_factory=list)
    created_at: int
    updated_at: int


class ArtifactLink(Entity):
    """A short-lived URL that reaches the blob directly in object storage (S3), bypassing
    the server; the bytes should be checked against ``digest``."""

    url: str
    method: str = "GET"
    expires_at: int
    digest: str
    size: int


class DirectUpload(Entity):
    """A short-lived URL to PUT a file's bytes straight into object storage (S3), to a
    temporary key that ``token`` names; committing the token makes them the run's file."""

    url: str
    method: str = "PUT"
    token: str = Field(description="Names the upload when committing it.")
    expires_at: int


class DirectUploadCommit(Entity):
    """Make a direct upload the file at ``path``: the server hashes and scans the bytes; a
    ``digest`` given here must match them."""

    path: str = Field(min_length=1, max_length=1024)
    digest: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")


class GcReport(Entity):
    """What ``plinth artifacts gc`` found and removed."""

    blobs_seen: int = 0
    blobs_removed: int = 0
    bytes_removed: int = 0
    kept_referenced: int = 0
    kept_recent: int = 0
    uploads_expired: int = 0
    temporary_removed: int = 0
    dry_run: bool = False
