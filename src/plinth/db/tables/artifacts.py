"""Artifact manifests: which blob (by sha256) sits at which path of a run."""

from sqlalchemy import BigInteger, Column, ForeignKey, Index, String, Table

from plinth.db.tables import metadata

run_artifacts = Table(
    "run_artifacts",
    metadata,
    Column("run_id", String(32), ForeignKey("runs.id"), primary_key=True),
    Column("path", String(1024), primary_key=True),
    Column("digest", String(64), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Index(None, "digest"),
)
