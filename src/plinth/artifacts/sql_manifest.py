"""Placing a staged blob at a path of a run: scan it, pin it, publish it, write the
manifest row. Shared by single uploads and by completing resumable ones."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, select

from plinth.artifacts.references import pin, unpin
from plinth.artifacts.scanning import ScanReport, needs_scan, scan_stream
from plinth.artifacts.store import BlobStore, StagedBlob
from plinth.db.dialect import insert_ignoring_conflicts, one_writer_at_a_time, upsert
from plinth.db.engine import Database
from plinth.db.tables.artifacts import frozen_artifact_paths, run_artifacts
from plinth.entities.artifacts import ArtifactInfo
from plinth.entities.common import now_ms
from plinth.entities.models import ScanStatus
from plinth.errors import Conflict, FieldError, UnsafeArtifact


def artifact_from_row(row: Any) -> ArtifactInfo:
    status = ScanStatus(row.scan_status) if row.scan_status else None
    return ArtifactInfo(path=row.path, size=row.size, digest=row.digest, scan_status=status)


def scan_staged(blobs: BlobStore, staged: StagedBlob, path: str) -> ScanReport:
    """Scan a staged file that can run code when loaded; refuse it if it is unsafe."""
    if not needs_scan(path):
        return ScanReport(ScanStatus.NOT_NEEDED)
    try:
        with blobs.open_staged(staged) as source:
            report = scan_stream(source, path)
    except Exception as exc:  # picklescan trips over some malformed files: not called clean
        return ScanReport(ScanStatus.NOT_SCANNED, [f"{path}: could not be scanned ({exc})"])
    if report.unsafe:
        raise UnsafeArtifact.with_findings(path, report.findings)
    return report


def _refuse_file_folder_clash(conn: Connection, run_id: str, path: str) -> None:
    """A path is a file or a folder, never both: ``a/b`` as a file would hide ``a/b/c``."""
    parts = path.split("/")
    folders = ["/".join(parts[:i]) for i in range(1, len(parts))]
    clash = conn.execute(
        select(run_artifacts.c.path)
        .where(
            run_artifacts.c.run_id == run_id,
            run_artifacts.c.path.in_(folders)
            | run_artifacts.c.path.startswith(path + "/", autoescape=True),
        )
        .limit(1)
    ).scalar()
    if clash is None:
        return
    if clash in folders:
        detail = f"{clash!r} is a file, so nothing can be stored under it"
    else:
        detail = f"{path!r} is a folder (it holds {clash!r}), so it cannot be a file"
    raise Conflict(f"cannot store {path!r}: {detail}", [FieldError("path", detail)])


def freeze(
    database: Database,
    conn: Connection,
    run_id: str,
    path: str,
    reason: str,
    *,
    read_file: str,
    read_digest: str,
) -> None:
    """Freeze ``path`` of the run (and all under it) in ``conn``'s transaction, once
    ``read_file`` (a model's manifest, read before the transaction) is checked to still
    hold ``read_digest``: what was read is what gets frozen."""
    held = conn.execute(
        select(run_artifacts.c.digest)
        .where(run_artifacts.c.run_id == run_id, run_artifacts.c.path == read_file)
        .with_for_update()
    ).scalar()
    if held != read_digest:
        raise Conflict(
            f"the files at runs:/{run_id}/{path} changed while they were being frozen; try again"
        )
    conn.execute(
        insert_ignoring_conflicts(database, frozen_artifact_paths),
        {"run_id": run_id, "path": path, "reason": reason[:512]},
    )


def _refuse_frozen(conn: Connection, run_id: str, path: str) -> None:
    """No write at or under a frozen path. Checked after the write, in its transaction: a
    freeze that committed first is seen, one still open holds the row and is waited for."""
    for frozen, reason in conn.execute(
        select(frozen_artifact_paths.c.path, frozen_artifact_paths.c.reason).where(
            frozen_artifact_paths.c.run_id == run_id
        )
    ):
        if path == frozen or path.startswith(frozen + "/"):
            detail = f"{frozen!r} holds the files of {reason}, which never change"
            raise Conflict(f"cannot store {path!r}: {detail}", [FieldError("path", detail)])


def commit_staged(
    database: Database,
    blobs: BlobStore,
    run_id: str,
    path: str,
    staged: StagedBlob,
    *,
    finish: Callable[[Connection], bool] | None = None,
) -> ArtifactInfo:
    """Make ``staged`` the file at ``path`` of the run. ``finish`` runs in the manifest's
    transaction and may veto the manifest row (an upload someone else completed)."""
    try:
        report = scan_staged(blobs, staged, path)
        token = pin(database, staged.digest)
    except BaseException:
        blobs.discard(staged)
        raise
    try:
        blobs.publish(staged)
        with database.write() as conn:
            one_writer_at_a_time(database, conn, f"run-artifacts:{run_id}")
            if finish is None or finish(conn):
                _refuse_file_folder_clash(conn, run_id, path)
                conn.execute(
                    upsert(
                        database,
                        run_artifacts,
                        ["run_id", "path"],
                        ["digest", "size", "created_at", "scan_status"],
                    ),
                    {
                        "run_id": run_id,
                        "path": path,
                        "digest": staged.digest,
                        "size": staged.size,
                        "created_at": now_ms(),
                        "scan_status": report.status.value,
                    },
                )
                _refuse_frozen(conn, run_id, path)
            unpin(conn, token)
    except BaseException:
        blobs.discard(staged)  # harmless once published: the temporary copy is gone
        with database.write() as conn:
            unpin(conn, token)
        raise
    return ArtifactInfo(
        path=path, size=staged.size, digest=staged.digest, scan_status=report.status
    )
