"""Contracts of artifact storage: the blob store (bytes by digest) and the run artifact store
(paths of a run -> blobs). ``sql.SqlRunArtifactStore`` and ``client.artifacts`` implement
the latter; ``fsspec_backend.FsspecBlobStore`` the former."""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO, Protocol

from plinth.entities.artifacts import ArtifactInfo


class BlobStore(Protocol):
    """Immutable blobs addressed by their sha256; identical content is stored once."""

    def put(self, source: BinaryIO) -> tuple[str, int]:
        """Store a stream atomically; return its sha256 hex digest and size."""
        ...

    def open(self, digest: str) -> BinaryIO:
        """The blob's bytes; ``NotFound`` if absent."""
        ...

    def exists(self, digest: str) -> bool: ...


class RunArtifactStore(Protocol):
    """Files logged to runs."""

    def upload(self, run_id: str, path: str, source: BinaryIO) -> ArtifactInfo:
        """Store a file at ``path`` of a run (replacing what was there)."""
        ...

    def list(self, run_id: str, prefix: str = "") -> list[ArtifactInfo]:
        """Files and folders directly under ``prefix``."""
        ...

    def download(self, run_id: str, path: str) -> Iterator[bytes]:
        """The file's bytes, in chunks, verified against its digest."""
        ...
