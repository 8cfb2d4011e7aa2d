"""``SqlRunArtifactStore``: run artifact manifests in the database, bytes in a blob store."""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

from sqlalchemy import select

from plinth.artifacts import sql_uploads
from plinth.artifacts.hashing import CHUNK_SIZE
from plinth.artifacts.integrity import verified_chunks
from plinth.artifacts.paths import clean_artifact_path
from plinth.artifacts.sql_manifest import artifact_from_row, commit_staged
from plinth.artifacts.store import BlobStore
from plinth.db.engine import Database
from plinth.db.tables.artifacts import run_artifacts
from plinth.entities.artifacts import (
    ArtifactInfo,
    ArtifactLink,
    DirectUpload,
    Upload,
    UploadPart,
)
from plinth.entities.common import new_id, now_ms
from plinth.errors import Conflict, InvalidArgument, NotFound
from plinth.tracking.sql_runs import get_run_row

MAX_LINK_SECONDS = 7 * 24 * 3600
"""The longest a presigned link may live (S3's own limit)."""

MAX_DIRECT_UPLOAD_SECONDS = 24 * 3600
"""The longest a direct upload may stay uncommitted: ``plinth artifacts gc`` sweeps
temporary bytes older than this (``gc.TEMPORARY_MS``)."""


class SqlRunArtifactStore:
    """Implements ``RunArtifactStore``."""

    def __init__(self, database: Database, blobs: BlobStore) -> None:
        self.database = database
        self.blobs = blobs

    def upload(self, run_id: str, path: str, source: BinaryIO) -> ArtifactInfo:
        path = clean_artifact_path(path)
        with self.database.read() as conn:
            get_run_row(conn, run_id)
        staged = self.blobs.stage(source)  # outside any transaction: may be slow
        return commit_staged(self.database, self.blobs, run_id, path, staged)

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
                return [artifact_from_row(row)]
            head, _, rest = row.path[len(base) :].partition("/")
            child = base + head
            if rest:
                entries.setdefault(child, ArtifactInfo(path=child, is_dir=True))
            else:
                entries[child] = artifact_from_row(row)
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
        return artifact_from_row(row)

    def download(self, run_id: str, path: str) -> Iterator[bytes]:
        info = self.stat(run_id, path)
        assert info.digest is not None
        assert info.size is not None
        return verified_chunks(_read(self.blobs.open(info.digest)), info.digest, info.size)

    def link(self, run_id: str, path: str, expires_seconds: int = 900) -> ArtifactLink:
        if not 1 <= expires_seconds <= MAX_LINK_SECONDS:
            raise InvalidArgument.for_field(
                "expires_seconds", f"must be between 1 and {MAX_LINK_SECONDS}"
            )
        info = self.stat(run_id, path)
        assert info.digest is not None
        assert info.size is not None
        url = self.blobs.link(info.digest, expires_seconds)
        if url is None:
            raise Conflict(
                "this server's artifact storage has no direct links (only object stores such"
                " as S3 do); download the file through the server instead"
            )
        return ArtifactLink(
            url=url,
            expires_at=now_ms() + expires_seconds * 1000,
            digest=info.digest,
            size=info.size,
        )

    def direct_upload(self, run_id: str, expires_seconds: int = 900) -> DirectUpload:
        if not 1 <= expires_seconds <= MAX_DIRECT_UPLOAD_SECONDS:
            raise InvalidArgument.for_field(
                "expires_seconds", f"must be between 1 and {MAX_DIRECT_UPLOAD_SECONDS}"
            )
        with self.database.read() as conn:
            get_run_row(conn, run_id)
        token = new_id()
        url = self.blobs.upload_link(token, expires_seconds)
        if url is None:
            raise Conflict(
                "this server's artifact storage takes no direct uploads (only object stores "
                "such as S3 do); upload the file through the server instead"
            )
        return DirectUpload(url=url, token=token, expires_at=now_ms() + expires_seconds * 1000)

    def commit_direct_upload(
        self, run_id: str, token: str, path: str, digest: str | None = None
    ) -> ArtifactInfo:
        path = clean_artifact_path(path)
        with self.database.read() as conn:
            get_run_row(conn, run_id)
        try:
            staged = self.blobs.stage_uploaded(token)  # outside any transaction: reads it all
        except NotFound:
            raise NotFound(f"no direct upload {token!r} arrived (or it was committed)") from None
        if digest is not None and digest != staged.digest:
            self.blobs.discard(staged)
            raise InvalidArgument.for_field(
                "digest", f"the bytes that arrived hash to {staged.digest}, not {digest}"
            )
        return commit_staged(self.database, self.blobs, run_id, path, staged)

    def start_upload(self, run_id: str, path: str, size: int | None = None) -> Upload:
        return sql_uploads.start_upload(self.database, run_id, path, size)

    def get_upload(self, upload_id: str) -> Upload:
        return sql_uploads.get_upload(self.database, upload_id)

    def upload_part(self, upload_id: str, number: int, source: BinaryIO) -> UploadPart:
        return sql_uploads.upload_part(self.database, self.blobs, upload_id, number, source)

    def complete_upload(self, upload_id: str) -> ArtifactInfo:
        return sql_uploads.complete_upload(self.database, self.blobs, upload_id)

    def abort_upload(self, upload_id: str) -> None:
        sql_uploads.abort_upload(self.database, self.blobs, upload_id)


def _read(source: BinaryIO) -> Iterator[bytes]:
    with source:
        while chunk := source.read(CHUNK_SIZE):
            yield chunk
