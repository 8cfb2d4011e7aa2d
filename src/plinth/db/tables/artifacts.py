"""Artifact manifests (which blob, by sha256, sits at which path of a run), resumable uploads,
and pins that keep a blob alive while an upload is about to reference it.

A column that holds a blob digest says so with ``info=BLOB_REFERENCE``: garbage collection
keeps every blob any such column names, in any component's tables (see ``artifacts.gc``).
"""

from sqlalchemy import BigInteger, Column, ForeignKey, Index, Integer, String, Table

from plinth.db.tables import metadata

BLOB_REFERENCE = {"blob_reference": True}
"""``Column(..., info=BLOB_REFERENCE)``: this column holds sha256 digests of blobs in use.
Index such a column: the collector looks digests up in batches."""

run_artifacts = Table(
    "run_artifacts",
    metadata,
    Column("run_id", String(32), ForeignKey("runs.id"), primary_key=True),
    Column("path", String(1024), primary_key=True),
    Column("digest", String(64), nullable=False, info=BLOB_REFERENCE),
    Column("size", BigInteger, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("scan_status", String(16), nullable=True),
    Index(None, "digest"),
)

frozen_artifact_paths = Table(
    "frozen_artifact_paths",
    metadata,
    Column("run_id", String(32), ForeignKey("runs.id"), primary_key=True),
    Column("path", String(1024), primary_key=True),
    Column("reason", String(512), nullable=False),
)
"""Run artifact paths that must never change again (a registered model version's files):
no upload may write at or under them."""

artifact_uploads = Table(
    "artifact_uploads",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("run_id", String(32), ForeignKey("runs.id"), nullable=False),
    Column("path", String(1024), nullable=False),
    Column("size", BigInteger, nullable=True),
    Column("state", String(16), nullable=False),
    Column("digest", String(64), nullable=True),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Index(None, "updated_at"),
)

artifact_upload_parts = Table(
    "artifact_upload_parts",
    metadata,
    Column(
        "upload_id",
        String(32),
        ForeignKey("artifact_uploads.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("number", Integer, primary_key=True, autoincrement=False),
    Column("size", BigInteger, nullable=False),
    Column("etag", String(32), nullable=False),
    Column("chain", String(32), nullable=True),
    Column("chain_offset", BigInteger, nullable=True),
    Column("created_at", BigInteger, nullable=False),
)

blob_pins = Table(
    "blob_pins",
    metadata,
    Column("token", String(32), primary_key=True),
    Column("digest", String(64), nullable=False, info=BLOB_REFERENCE),
    Column("created_at", BigInteger, nullable=False),
    Index(None, "digest"),
)
