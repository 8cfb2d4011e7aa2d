"""Artifacts: resumable uploads and their parts, blob pins for garbage collection, and the
scan status of each stored file.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("run_artifacts") as batch:
        batch.add_column(sa.Column("scan_status", sa.String(16), nullable=True))
    op.create_table(
        "artifact_uploads",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("run_id", sa.String(32), nullable=False),
        sa.Column("path", sa.String(1024), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("digest", sa.String(64), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name="fk_artifact_uploads_run_id_runs"),
        sa.PrimaryKeyConstraint("id", name="pk_artifact_uploads"),
    )
    op.create_index("ix_artifact_uploads_updated_at", "artifact_uploads", ["updated_at"])
    op.create_table(
        "artifact_upload_parts",
        sa.Column("upload_id", sa.String(32), nullable=False),
        sa.Column("number", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("etag", sa.String(32), nullable=False),
        sa.Column("chain", sa.String(32), nullable=True),
        sa.Column("chain_offset", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["upload_id"],
            ["artifact_uploads.id"],
            name="fk_artifact_upload_parts_upload_id_artifact_uploads",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("upload_id", "number", name="pk_artifact_upload_parts"),
    )
    op.create_table(
        "blob_pins",
        sa.Column("token", sa.String(32), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("token", name="pk_blob_pins"),
    )
    op.create_index("ix_blob_pins_digest", "blob_pins", ["digest"])


def downgrade() -> None:
    op.drop_index("ix_blob_pins_digest", table_name="blob_pins")
    op.drop_table("blob_pins")
    op.drop_table("artifact_upload_parts")
    op.drop_index("ix_artifact_uploads_updated_at", table_name="artifact_uploads")
    op.drop_table("artifact_uploads")
    with op.batch_alter_table("run_artifacts") as batch:
        batch.drop_column("scan_status")
