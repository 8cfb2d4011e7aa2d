"""Metric points move from one row each to chunks of columns (see tracking/chunks.py).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import numpy as np
import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHUNK_POINTS = 8192  # tracking.chunks.CHUNK_POINTS when this migration was written


def upgrade() -> None:
    chunks = op.create_table(
        "metric_chunks",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("series_id", sa.Integer(), nullable=False),
        sa.Column("first_step", sa.BigInteger(), nullable=False),
        sa.Column("last_step", sa.BigInteger(), nullable=False),
        sa.Column("point_count", sa.Integer(), nullable=False),
        sa.Column("steps", sa.LargeBinary(), nullable=False),
        sa.Column("timestamps", sa.LargeBinary(), nullable=False),
        sa.Column("point_values", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["series_id"], ["metric_series.id"], name="fk_metric_chunks_series_id_metric_series"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_metric_chunks"),
    )
    op.create_index(
        "ix_metric_chunks_series_id_last_step", "metric_chunks", ["series_id", "last_step"]
    )
    with op.batch_alter_table("metric_series") as batch:
        batch.add_column(
            sa.Column("small_chunks", sa.Integer(), nullable=False, server_default="0")
        )
    _move_points(op.get_bind(), chunks)
    op.drop_index("ix_metrics_series_id_step", table_name="metrics")
    op.drop_table("metrics")


def _move_points(bind: sa.Connection, chunks: sa.Table) -> None:
    """Copy each series' rows into chunks (a NULL value was NaN)."""
    series_ids = [row[0] for row in bind.execute(sa.text("SELECT DISTINCT series_id FROM metrics"))]
    for series_id in series_ids:
        rows = bind.execute(
            sa.text(
                "SELECT step, timestamp, value FROM metrics WHERE series_id = :sid"
                " ORDER BY step, timestamp"
            ),
            {"sid": series_id},
        ).all()
        steps = np.array([r[0] for r in rows], dtype="<i8")
        stamps = np.array([r[1] for r in rows], dtype="<i8")
        values = np.array([np.nan if r[2] is None else r[2] for r in rows], dtype="<f8")
        parts = []
        for start in range(0, len(rows), CHUNK_POINTS):
            part = slice(start, start + CHUNK_POINTS)
            parts.append(
                {
                    "series_id": series_id,
                    "first_step": int(steps[part].min()),
                    "last_step": int(steps[part].max()),
                    "point_count": len(steps[part]),
                    "steps": steps[part].tobytes(),
                    "timestamps": stamps[part].tobytes(),
                    "point_values": values[part].tobytes(),
                }
            )
        bind.execute(chunks.insert(), parts)


def downgrade() -> None:
    op.create_table(
        "metrics",
        sa.Column("series_id", sa.Integer(), nullable=False),
        sa.Column("step", sa.BigInteger(), nullable=False),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
    )
    op.create_index("ix_metrics_series_id_step", "metrics", ["series_id", "step"])
    bind = op.get_bind()
    rows = bind.execute(
        sa.text("SELECT series_id, steps, timestamps, point_values FROM metric_chunks")
    ).all()
    for series_id, steps, stamps, values in rows:
        points = zip(
            np.frombuffer(steps, "<i8").tolist(),
            np.frombuffer(stamps, "<i8").tolist(),
            np.frombuffer(values, "<f8").tolist(),
            strict=True,
        )
        bind.execute(
            sa.text("INSERT INTO metrics VALUES (:sid, :step, :ts, :value)"),
            [
                {"sid": series_id, "step": s, "ts": t, "value": None if v != v else v}
                for s, t, v in points
            ],
        )
    op.drop_table("metric_chunks")
    with op.batch_alter_table("metric_series") as batch:
        batch.drop_column("small_chunks")
