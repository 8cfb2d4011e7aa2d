"""Tracking: projects, experiments, runs, params, tags, metrics, inputs, artifacts.

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEFAULT_EXPERIMENT_ID = "0" * 32


def upgrade() -> None:
    projects = op.create_table(
        "projects",
        sa.Column("name", sa.String(250), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("created_by", sa.String(250), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_projects"),
    )
    experiments = op.create_table(
        "experiments",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("project", sa.String(250), nullable=False),
        sa.Column("name", sa.String(250), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("lifecycle_stage", sa.String(16), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("created_by", sa.String(250), nullable=False),
        sa.ForeignKeyConstraint(
            ["project"], ["projects.name"], name="fk_experiments_project_projects"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_experiments"),
        sa.UniqueConstraint("project", "name", name="uq_experiments_project_name"),
    )
    op.create_table(
        "experiment_tags",
        sa.Column("experiment_id", sa.String(32), nullable=False),
        sa.Column("key", sa.String(250), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["experiment_id"],
            ["experiments.id"],
            name="fk_experiment_tags_experiment_id_experiments",
        ),
        sa.PrimaryKeyConstraint("experiment_id", "key", name="pk_experiment_tags"),
    )
    op.create_table(
        "runs",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("experiment_id", sa.String(32), nullable=False),
        sa.Column("name", sa.String(250), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("start_time", sa.BigInteger(), nullable=False),
        sa.Column("end_time", sa.BigInteger(), nullable=True),
        sa.Column("user_name", sa.String(250), nullable=True),
        sa.Column("source_script", sa.String(4096), nullable=True),
        sa.Column("git_commit", sa.String(64), nullable=True),
        sa.Column("git_dirty", sa.Boolean(), nullable=True),
        sa.Column("git_branch", sa.String(250), nullable=True),
        sa.Column("parent_run_id", sa.String(32), nullable=True),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("lifecycle_stage", sa.String(16), nullable=False),
        sa.Column("created_by", sa.String(250), nullable=False),
        sa.ForeignKeyConstraint(
            ["experiment_id"], ["experiments.id"], name="fk_runs_experiment_id_experiments"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_runs"),
    )
    op.create_index(
        "ix_runs_experiment_id_lifecycle_stage_start_time",
        "runs",
        ["experiment_id", "lifecycle_stage", "start_time"],
    )
    op.create_index("ix_runs_parent_run_id", "runs", ["parent_run_id"])

    op.create_table(
        "params",
        sa.Column("run_id", sa.String(32), nullable=False),
        sa.Column("key", sa.String(250), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("value_type", sa.String(8), nullable=False),
        sa.Column("value_num", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name="fk_params_run_id_runs"),
        sa.PrimaryKeyConstraint("run_id", "key", name="pk_params"),
    )
    op.create_index("ix_params_key_value_num", "params", ["key", "value_num"])
    op.create_index(
        "ix_params_key_value_prefix", "params", ["key", sa.text("substr(value, 1, 200)")]
    )

    op.create_table(
        "run_tags",
        sa.Column("run_id", sa.String(32), nullable=False),
        sa.Column("key", sa.String(250), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name="fk_run_tags_run_id_runs"),
        sa.PrimaryKeyConstraint("run_id", "key", name="pk_run_tags"),
    )
    op.create_index(
        "ix_run_tags_key_value_prefix", "run_tags", ["key", sa.text("substr(value, 1, 200)")]
    )

    op.create_table(
        "metric_series",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.String(32), nullable=False),
        sa.Column("key", sa.String(250), nullable=False),
        sa.Column("latest_value", sa.Float(), nullable=True),
        sa.Column("latest_step", sa.BigInteger(), nullable=False),
        sa.Column("latest_timestamp", sa.BigInteger(), nullable=False),
        sa.Column("point_count", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name="fk_metric_series_run_id_runs"),
        sa.PrimaryKeyConstraint("id", name="pk_metric_series"),
        sa.UniqueConstraint("run_id", "key", name="uq_metric_series_run_id_key"),
    )
    op.create_index("ix_metric_series_key_latest_value", "metric_series", ["key", "latest_value"])

    op.create_table(
        "metrics",
        sa.Column("series_id", sa.Integer(), nullable=False),
        sa.Column("step", sa.BigInteger(), nullable=False),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
    )
    op.create_index("ix_metrics_series_id_step", "metrics", ["series_id", "step"])

    op.create_table(
        "applied_batches",
        sa.Column("batch_id", sa.String(64), nullable=False),
        sa.Column("run_id", sa.String(32), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("applied_at", sa.BigInteger(), nullable=False),
        sa.Column("actor", sa.String(250), nullable=False),
        sa.PrimaryKeyConstraint("batch_id", name="pk_applied_batches"),
    )

    op.create_table(
        "datasets",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("project", sa.String(250), nullable=False),
        sa.Column("name", sa.String(250), nullable=False),
        sa.Column("digest", sa.String(128), nullable=False),
        sa.Column("schema_json", sa.Text(), nullable=True),
        sa.Column("source", sa.String(4096), nullable=True),
        sa.Column("num_rows", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project"], ["projects.name"], name="fk_datasets_project_projects"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_datasets"),
        sa.UniqueConstraint("project", "name", "digest", name="uq_datasets_project_name_digest"),
    )
    op.create_table(
        "run_inputs",
        sa.Column("run_id", sa.String(32), nullable=False),
        sa.Column("dataset_id", sa.String(32), nullable=False),
        sa.Column("context", sa.String(250), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["datasets.id"], name="fk_run_inputs_dataset_id_datasets"
        ),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name="fk_run_inputs_run_id_runs"),
        sa.PrimaryKeyConstraint("run_id", "dataset_id", "context", name="pk_run_inputs"),
    )
    op.create_index("ix_run_inputs_dataset_id", "run_inputs", ["dataset_id"])

    op.create_table(
        "run_artifacts",
        sa.Column("run_id", sa.String(32), nullable=False),
        sa.Column("path", sa.String(1024), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name="fk_run_artifacts_run_id_runs"),
        sa.PrimaryKeyConstraint("run_id", "path", name="pk_run_artifacts"),
    )
    op.create_index("ix_run_artifacts_digest", "run_artifacts", ["digest"])

    op.bulk_insert(
        projects,
        [{"name": "default", "description": "", "created_at": 0, "created_by": "system"}],
    )
    op.bulk_insert(
        experiments,
        [
            {
                "id": DEFAULT_EXPERIMENT_ID,
                "project": "default",
                "name": "Default",
                "description": "",
                "lifecycle_stage": "active",
                "created_at": 0,
                "created_by": "system",
            }
        ],
    )


def downgrade() -> None:
    for table in (
        "run_artifacts",
        "run_inputs",
        "datasets",
        "applied_batches",
        "metrics",
        "metric_series",
        "run_tags",
        "params",
        "runs",
        "experiment_tags",
        "experiments",
        "projects",
    ):
        op.drop_table(table)
