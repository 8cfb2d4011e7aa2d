"""Garbage collection of blobs: mark what any manifest references, sweep the rest.

Only published blobs (``sha256/``) are candidates, and only those older than a grace
period: uploads in flight write to temporary places the collector does not list, and an
upload that is about to reference an existing blob pins it first (``references``). Each
batch of candidates is checked and deleted under the blob lock, so a pin made meanwhile
waits for the deletion to finish and then finds the blob gone (and writes it again).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from itertools import islice

from sqlalchemy import and_, delete, or_, select

from plinth.artifacts.references import drop_expired_pins, lock_blobs, referenced
from plinth.artifacts.sql import MAX_DIRECT_UPLOAD_SECONDS
from plinth.artifacts.store import BlobStat, BlobStore
from plinth.db.engine import Database
from plinth.db.tables.artifacts import artifact_uploads
from plinth.entities.artifacts import GcReport
from plinth.entities.common import now_ms

DEFAULT_GRACE_SECONDS = 3600
BATCH = 500
"""Candidates checked and deleted per transaction."""
OPEN_UPLOAD_IDLE_MS = 7 * 24 * 3600 * 1000
"""A resumable upload nobody touched for this long is abandoned: its parts are removed."""
COMPLETED_UPLOAD_MS = 24 * 3600 * 1000
"""How long a completed upload is remembered (so that completing it again is harmless)."""
TEMPORARY_MS = MAX_DIRECT_UPLOAD_SECONDS * 1000
"""Staged bytes older than this were left by a writer that died."""


def collect_garbage(
    database: Database,
    blobs: BlobStore,
    *,
    grace_seconds: int = DEFAULT_GRACE_SECONDS,
    dry_run: bool = False,
    progress: Callable[[int], None] | None = None,
) -> GcReport:
    """Remove blobs that nothing references and that are older than ``grace_seconds``;
    ``progress`` is told how many blobs have been looked at so far."""
    now = now_ms()
    counts = {"uploads_expired": 0, "temporary_removed": 0}
    if not dry_run:
        drop_expired_pins(database, now)
        counts["uploads_expired"] = _expire_uploads(database, blobs, now)
        counts["temporary_removed"] = blobs.sweep_temporary(now - TEMPORARY_MS)
    listing = _OldBlobs(blobs.list_blobs(), now - grace_seconds * 1000)
    seen = kept = removed = removed_bytes = 0
    while batch := list(islice(listing, BATCH)):
        in_use = _sweep(database, blobs, batch, dry_run)
        doomed = [stat for stat in batch if stat.digest not in in_use]
        removed += len(doomed)
        removed_bytes += sum(stat.size for stat in doomed)
        kept += len(batch) - len(doomed)
        seen += len(batch)
        if progress is not None:
            progress(seen + listing.recent)
    if progress is not None:
        progress(seen + listing.recent)
    return GcReport(
        blobs_seen=seen + listing.recent,
        blobs_removed=removed,
        bytes_removed=removed_bytes,
        kept_referenced=kept,
        kept_recent=listing.recent,
        dry_run=dry_run,
        **counts,
    )


class _OldBlobs:
    """The blobs of a listing modified before ``cutoff``; counts the younger ones."""

    def __init__(self, listing: Iterable[BlobStat], cutoff: int) -> None:
        self._listing = iter(listing)
        self._cutoff = cutoff
        self.recent = 0

    def __iter__(self) -> Iterator[BlobStat]:
        return self

    def __next__(self) -> BlobStat:
        for stat in self._listing:
            if stat.modified_ms < self._cutoff:
                return stat
            self.recent += 1
        raise StopIteration


def _sweep(database: Database, blobs: BlobStore, batch: list[BlobStat], dry_run: bool) -> set[str]:
    """Delete the unreferenced blobs of ``batch`` under the blob lock; return the others."""
    digests = [stat.digest for stat in batch]
    if dry_run:
        with database.read() as conn:
            return referenced(conn, digests)
    with database.write() as conn:
        lock_blobs(conn, database, exclusive=True)
        in_use = referenced(conn, digests)
        blobs.delete([digest for digest in digests if digest not in in_use])
    return in_use


def _expire_uploads(database: Database, blobs: BlobStore, now: int) -> int:
    stale = or_(
        and_(
            artifact_uploads.c.state == "open",
            artifact_uploads.c.updated_at < now - OPEN_UPLOAD_IDLE_MS,
        ),
        and_(
            artifact_uploads.c.state == "completed",
            artifact_uploads.c.updated_at < now - COMPLETED_UPLOAD_MS,
        ),
    )
    with database.read() as conn:
        ids = [row.id for row in conn.execute(select(artifact_uploads.c.id).where(stale))]
    for upload_id in ids:
        blobs.discard_upload(upload_id)
        with database.write() as conn:
            conn.execute(delete(artifact_uploads).where(artifact_uploads.c.id == upload_id))
    return len(ids)
