"""``SqlRunArtifactStore``: run artifact manifests in the database, bytes in a blob store."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import BinaryIO

from sqlalchemy import select

from plinth.artifacts.fsspec_backend import CHUNK_SIZE
from plinth.artifacts.paths import clean_artifact_path
from plinth.artifacts.store import BlobStore
from plinth.db.dialect import upsert
from plinth.db.engine import Database
from plinth.db.tables.artifacts import run_artifacts
from plinth.entities.artifacts import ArtifactInfo
from plinth.entities.common import now_ms
from plinth.errors import NotFound, PlinthError
from plinth.tracking.sql_runs import get_run_row


class CorruptArtifact(PlinthError):
    slug = "corrupt-artifact"
    title = "Stored artifact does not match its digest"


class SqlRunArtifactStore:
    """Implements ``RunArtifactStore``."""

    def __init__(self, database: Database, blobs: BlobStore) -> None:
        self.database = database
        self.blobs = blobs

    def upload(self, run_id: str, path: str, source: BinaryIO) -> ArtifactInfo:
        path = clean_artifact_path(path)
        with self.database.read() as conn:
            get_run_row(conn, run_id)
        digest, size = self.blobs.put(source)  # outside the write transaction: may be slow
        with self.database.write() as conn:
            conn.execute(
                upsert(self.database, run_artifacts, ["run_id", "path"], ["digest", "size"]),
                {
                    "run_id": run_id,
                    "path": path,
                    "digest": digest,
                    "size": size,
                    "created_at": now_ms(),
                },
            )
        return ArtifactInfo(path=path, size=size, digest=digest)

    def list(self, run_id: str, prefix: str = "") -> list[ArtifactInfo]:
        prefix = clean_artifact_path(prefix, allow_root=True)
        with self.database.read() as conn:
            get_run_row(conn, run_id)
            statement = select(run_artifacts).where(run_artifacts.c.run_id == run_id)
            if prefix:
                statement = statement.where(
                    (run_artifacts.c.path == prefix)
                    | run_artifacts.c.path.startswith(prefix + "/", autoescape=True)
                )
            rows = conn.execute(statement.order_by(run_artifacts.c.path)).all()
        entries: dict[str, ArtifactInfo] = {}
        base = prefix + "/" if prefix else ""
        for row in rows:
            if row.path == prefix:  # the prefix names a file: list just that file
                return [ArtifactInfo(path=row.path, size=row.size, digest=row.digest)]
            head, _, rest = row.path[len(base) :].partition("/")
            child = base + head
            if rest:
                entries.setdefault(child, ArtifactInfo(path=child, is_dir=True))
            else:
                entries[child] = ArtifactInfo(path=child, size=row.size, digest=row.digest)
        return list(entries.values())

    def stat(self, run_id: str, path: str) -> ArtifactInfo:
        path = clean_artifact_path(path)
        with self.database.read() as conn:
            row = conn.execute(
                select(run_artifacts).where(
                    run_artifacts.c.run_id == run_id, run_artifacts.c.path == path
                )
            ).first()
            if row is None:
                get_run_row(conn, run_id)
                raise NotFound(f"run {run_id!r} has no artifact {path!r}")
        return ArtifactInfo(path=row.path, size=row.size, digest=row.digest)

    def download(self, run_id: str, path: str) -> Iterator[bytes]:
        info = self.stat(run_id, path)
        assert info.digest is not None
        return _verified_chunks(self.blobs.open(info.digest), info.digest)


def _verified_chunks(source: BinaryIO, digest: str) -> Iterator[bytes]:
    """Yield a blob's chunks; raise at the end if the bytes do not hash to ``digest``."""
    hasher = hashlib.sha256()
    with source:
        while chunk := source.read(CHUNK_SIZE):
            hasher.update(chunk)
            yield chunk
    if hasher.hexdigest() != digest:
        raise CorruptArtifact(f"blob sha256:{digest} is corrupt on disk")
