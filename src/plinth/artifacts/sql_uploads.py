"""Resumable uploads: a row per upload, a row per part received (its etag names the one
write of it that counts), the bytes in the blob store's upload area. Completing joins parts
1..N and places the result like any upload; the row stays, marked completed, so a client
that lost the answer can complete again and get the same file back."""

from __future__ import annotations

from typing import Any, BinaryIO

from sqlalchemy import Connection, delete, select, update

from plinth.artifacts.paths import clean_artifact_path
from plinth.artifacts.sql_manifest import artifact_from_row, commit_staged
from plinth.artifacts.store import BlobStore, StoredPart
from plinth.db.dialect import upsert
from plinth.db.engine import Database
from plinth.db.tables.artifacts import artifact_upload_parts, artifact_uploads, run_artifacts
from plinth.entities.artifacts import MAX_UPLOAD_PARTS, ArtifactInfo, Upload, UploadPart
from plinth.entities.common import new_id, now_ms
from plinth.errors import Conflict, FieldError, InvalidArgument, NotFound, UnsafeArtifact
from plinth.tracking.sql_runs import get_run_row

OPEN = "open"
COMPLETED = "completed"


def start_upload(database: Database, run_id: str, path: str, size: int | None) -> Upload:
    path = clean_artifact_path(path)
    if size is not None and size < 0:
        raise InvalidArgument.for_field("size", "must be at least 0")
    now = now_ms()
    row = {
        "id": new_id(),
        "run_id": run_id,
        "path": path,
        "size": size,
        "state": OPEN,
        "digest": None,
        "created_at": now,
        "updated_at": now,
    }
    with database.write() as conn:
        get_run_row(conn, run_id)
        conn.execute(artifact_uploads.insert().values(**row))
    return _upload(row, [])


def get_upload(database: Database, upload_id: str) -> Upload:
    with database.read() as conn:
        row = _upload_row(conn, upload_id)
        parts = _part_rows(conn, upload_id)
    return _upload(row._asdict(), [UploadPart(number=p.number, size=p.size) for p in parts])


def upload_part(
    database: Database, blobs: BlobStore, upload_id: str, number: int, source: BinaryIO
) -> UploadPart:
    if not 1 <= number <= MAX_UPLOAD_PARTS:
        raise InvalidArgument.for_field("number", f"must be between 1 and {MAX_UPLOAD_PARTS}")
    with database.read() as conn:
        _require_open(_upload_row(conn, upload_id))
    part = blobs.write_part(upload_id, number, source)  # outside any transaction: slow
    try:
        with database.write() as conn:
            _require_open(_upload_row(conn, upload_id))  # not aborted or completed meanwhile
            previous = conn.execute(
                select(artifact_upload_parts).where(
                    artifact_upload_parts.c.upload_id == upload_id,
                    artifact_upload_parts.c.number == number,
                )
            ).first()
            now = now_ms()
            conn.execute(
                upsert(
                    database,
                    artifact_upload_parts,
                    ["upload_id", "number"],
                    ["size", "etag", "chain", "chain_offset", "created_at"],
                ),
                {
                    "upload_id": upload_id,
                    "number": number,
                    "size": part.size,
                    "etag": part.etag,
                    "chain": part.chain,
                    "chain_offset": part.offset if part.chain else None,
                    "created_at": now,
                },
            )
            _touch(conn, upload_id, now)
    except BaseException:
        blobs.discard_part(upload_id, part)
        raise
    if previous is not None:  # the write this one replaces
        blobs.discard_part(upload_id, _stored(previous))
    return UploadPart(number=number, size=part.size)


def complete_upload(database: Database, blobs: BlobStore, upload_id: str) -> ArtifactInfo:
    with database.read() as conn:
        row = _upload_row(conn, upload_id)
        if row.state == COMPLETED:
            return _completed(conn, row)
        parts = [_stored(p) for p in _part_rows(conn, upload_id)]
    _check_complete(row, parts)
    try:
        staged = blobs.assemble(upload_id, parts)
    except (FileNotFoundError, NotFound):
        # A completion of the same upload that started first finished meanwhile and removed
        # the parts: its outcome is this retry's too.
        with database.read() as conn:
            row = _upload_row(conn, upload_id)
            if row.state == COMPLETED:
                return _completed(conn, row)
        raise NotFound(f"the parts of upload {upload_id} are no longer in storage") from None

    def finish(conn: Connection) -> bool:
        """Mark the upload completed; False if a concurrent completion did it first."""
        done = conn.execute(
            update(artifact_uploads)
            .where(artifact_uploads.c.id == upload_id, artifact_uploads.c.state == OPEN)
            .values(state=COMPLETED, digest=staged.digest, size=staged.size, updated_at=now_ms())
        )
        if done.rowcount != 1:
            _upload_row(conn, upload_id)  # aborted meanwhile: NotFound
        return done.rowcount == 1

    try:
        info = commit_staged(database, blobs, row.run_id, row.path, staged, finish=finish)
    except UnsafeArtifact:
        abort_upload(database, blobs, upload_id)  # the same bytes would be refused again
        raise
    blobs.discard_upload(upload_id)
    with database.write() as conn:
        conn.execute(
            delete(artifact_upload_parts).where(artifact_upload_parts.c.upload_id == upload_id)
        )
    return info


def abort_upload(database: Database, blobs: BlobStore, upload_id: str) -> None:
    with database.write() as conn:
        _upload_row(conn, upload_id)
        conn.execute(delete(artifact_uploads).where(artifact_uploads.c.id == upload_id))
    blobs.discard_upload(upload_id)


def _check_complete(row: Any, parts: list[StoredPart]) -> None:
    numbers = {part.number for part in parts}
    gap = next((n for n in range(1, len(parts) + 1) if n not in numbers), None)
    if gap is not None:
        raise InvalidArgument(
            f"parts must be numbered 1 to N without gaps; part {gap} is missing",
            [FieldError("parts", f"part {gap} is missing")],
        )
    received = sum(part.size for part in parts)
    if row.size is not None and received != row.size:
        raise InvalidArgument.for_field(
            "size", f"the upload was declared as {row.size} bytes but {received} were received"
        )


def _completed(conn: Connection, row: Any) -> ArtifactInfo:
    """What completing a completed upload answers: the file it placed."""
    placed = conn.execute(
        select(run_artifacts).where(
            run_artifacts.c.run_id == row.run_id, run_artifacts.c.path == row.path
        )
    ).first()
    if placed is not None and placed.digest == row.digest:
        return artifact_from_row(placed)
    return ArtifactInfo(path=row.path, size=row.size, digest=row.digest)


def _upload_row(conn: Connection, upload_id: str) -> Any:
    row = conn.execute(select(artifact_uploads).where(artifact_uploads.c.id == upload_id)).first()
    if row is None:
        raise NotFound(f"upload {upload_id!r} does not exist (aborted, or expired)")
    return row


def _require_open(row: Any) -> None:
    if row.state != OPEN:
        raise Conflict(f"upload {row.id!r} is already {row.state}; start a new one")


def _part_rows(conn: Connection, upload_id: str) -> list[Any]:
    return list(
        conn.execute(
            select(artifact_upload_parts)
            .where(artifact_upload_parts.c.upload_id == upload_id)
            .order_by(artifact_upload_parts.c.number)
        )
    )


def _stored(row: Any) -> StoredPart:
    return StoredPart(row.number, row.size, row.etag, row.chain, row.chain_offset or 0)


def _touch(conn: Connection, upload_id: str, now: int) -> None:
    conn.execute(
        update(artifact_uploads).where(artifact_uploads.c.id == upload_id).values(updated_at=now)
    )


def _upload(row: dict[str, Any], parts: list[UploadPart]) -> Upload:
    return Upload(
        id=row["id"],
        run_id=row["run_id"],
        path=row["path"],
        size=row["size"],
        state=row["state"],
        parts=parts,
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )
