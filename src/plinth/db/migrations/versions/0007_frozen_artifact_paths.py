"""Run artifact paths that a registered model version reads are frozen: an upload can no
longer replace the files of a version (which must be immutable) nor leave its blobs to gc.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "frozen_artifact_paths",
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("path", sa.String(length=1024), nullable=False),
        sa.Column("reason", sa.String(length=512), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name=op.f("fk_frozen_artifact_paths_run_id_runs")
        ),
        sa.PrimaryKeyConstraint("run_id", "path", name=op.f("pk_frozen_artifact_paths")),
    )
    # Versions registered before this revision freeze their paths too.
    op.execute(
        "INSERT INTO frozen_artifact_paths (run_id, path, reason) "
        "SELECT run_id, artifact_path, MIN('model ' || model || ' version ' || version) "
        "FROM model_versions WHERE run_id IN (SELECT id FROM runs) "
        "GROUP BY run_id, artifact_path"
    )


def downgrade() -> None:
    op.drop_table("frozen_artifact_paths")
