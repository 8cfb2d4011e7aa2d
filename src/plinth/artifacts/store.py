"""Contracts of artifact storage: the blob store (bytes by digest) and the run artifact store
(paths of a run -> blobs). ``sql.SqlRunArtifactStore`` and ``client.artifacts`` implement
the latter; ``fsspec_backend.FsspecBlobStore`` the former."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import BinaryIO, Protocol

from plinth.entities.artifacts import ArtifactInfo, ArtifactLink, DirectUpload, Upload, UploadPart


@dataclass(frozen=True)
class StagedBlob:
    """Bytes written to a temporary place and hashed, not yet at their content address."""

    key: str
    digest: str
    size: int


@dataclass(frozen=True)
class BlobStat:
    """One stored blob, as garbage collection lists them."""

    digest: str
    size: int
    modified_ms: int


@dataclass(frozen=True)
class StoredPart:
    """A part of a resumable upload as written: ``etag`` names this write of it. Its bytes
    are a file of their own, or ``size`` bytes at ``offset`` of the upload's ``chain`` file
    (parts that arrived in order, appended one after another)."""

    number: int
    size: int
    etag: str
    chain: str | None = None
    offset: int = 0


class BlobStore(Protocol):
    """Immutable blobs addressed by their sha256; identical content is stored once.

    Writes are two steps so that a blob can be checked (scanned, pinned) before it becomes
    addressable: ``stage`` hashes the bytes into a temporary place, ``publish`` moves them
    to their address atomically (or drops them when the address already holds them).
    """

    def stage(self, source: BinaryIO) -> StagedBlob:
        """Write a stream to a temporary place, hashing it on the way."""
        ...

    def open_staged(self, staged: StagedBlob) -> BinaryIO:
        """Read staged bytes back (to scan them before they are published)."""
        ...

    def publish(self, staged: StagedBlob) -> None:
        """Make staged bytes the blob at their digest; the temporary copy is gone after."""
        ...

    def discard(self, staged: StagedBlob) -> None:
        """Drop staged bytes that will not be published."""
        ...

    def put(self, source: BinaryIO) -> tuple[str, int]:
        """Stage and publish in one go; return the sha256 hex digest and size. Callers that
        reference the blob afterwards should pin it (``artifacts.references``) first."""
        ...

    def open(self, digest: str) -> BinaryIO:
        """The blob's bytes; ``NotFound`` if absent."""
        ...

    def exists(self, digest: str) -> bool: ...

    def list_blobs(self) -> Iterator[BlobStat]:
        """Every published blob, for garbage collection."""
        ...

    def delete(self, digests: Sequence[str]) -> None:
        """Remove blobs (absent ones are ignored)."""
        ...

    def link(self, digest: str, expires_seconds: int) -> str | None:
        """A presigned URL to read the blob directly, or None if the backend has none."""
        ...

    def upload_link(self, token: str, expires_seconds: int) -> str | None:
        """A presigned URL to PUT bytes to the temporary place ``token`` names, or None if
        the backend has none."""
        ...

    def stage_uploaded(self, token: str) -> StagedBlob:
        """Hash bytes PUT through ``upload_link``: staged as if ``stage`` had written them;
        ``NotFound`` when nothing arrived."""
        ...

    def write_part(self, upload_id: str, number: int, source: BinaryIO) -> StoredPart:
        """Store one part of a resumable upload, atomically, under a fresh etag."""
        ...

    def assemble(self, upload_id: str, parts: Sequence[StoredPart]) -> StagedBlob:
        """Join the parts, in the order given, into a staged blob."""
        ...

    def discard_part(self, upload_id: str, part: StoredPart) -> None:
        """Drop one superseded write of a part."""
        ...

    def discard_upload(self, upload_id: str) -> None:
        """Drop every part of an upload."""
        ...

    def sweep_temporary(self, older_than_ms: int) -> int:
        """Remove staged leftovers of crashed writers older than a time; return the count."""
        ...


class RunArtifactStore(Protocol):
    """Files logged to runs."""

    def upload(self, run_id: str, path: str, source: BinaryIO) -> ArtifactInfo:
        """Store a file at ``path`` of a run (replacing what was there). Files that can run
        code when loaded are scanned first; an unsafe one raises ``UnsafeArtifact``."""
        ...

    def list(self, run_id: str, prefix: str = "") -> list[ArtifactInfo]:
        """Files and folders directly under ``prefix``."""
        ...

    def stat(self, run_id: str, path: str) -> ArtifactInfo:
        """One file's size, digest and scan status; ``NotFound`` if absent."""
        ...

    def download(self, run_id: str, path: str) -> Iterator[bytes]:
        """The file's bytes, in chunks, verified against its digest."""
        ...

    def link(self, run_id: str, path: str, expires_seconds: int = 900) -> ArtifactLink:
        """A short-lived direct URL to the file; ``Conflict`` when the backend has none."""
        ...

    def direct_upload(self, run_id: str, expires_seconds: int = 900) -> DirectUpload:
        """A short-lived URL to PUT a file straight into object storage; ``Conflict`` when
        the backend has none. Nothing is visible until ``commit_direct_upload``."""
        ...

    def commit_direct_upload(
        self, run_id: str, token: str, path: str, digest: str | None = None
    ) -> ArtifactInfo:
        """Hash, scan and store what was PUT as the file at ``path`` (as ``upload`` would)."""
        ...

    def start_upload(self, run_id: str, path: str, size: int | None = None) -> Upload:
        """Begin a resumable upload; nothing is visible in the run until it completes."""
        ...

    def get_upload(self, upload_id: str) -> Upload:
        """The upload and the parts received so far (what a resuming client skips)."""
        ...

    def upload_part(self, upload_id: str, number: int, source: BinaryIO) -> UploadPart:
        """Store part ``number`` (1-based; sending a part again replaces it)."""
        ...

    def complete_upload(self, upload_id: str) -> ArtifactInfo:
        """Join parts 1..N, hash, scan and store the file; repeating it is harmless."""
        ...

    def abort_upload(self, upload_id: str) -> None:
        """Forget an upload and its parts."""
        ...
