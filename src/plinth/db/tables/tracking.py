"""Tracking tables.

Metric points are the hot path: each (run, key) pair is a row of ``metric_series`` with an
integer id and its latest value (which search reads; NULL stands for NaN there). The points
themselves live in ``metric_chunks``: a few thousand per row, in binary columns (see
``tracking/chunks.py``).
"""

from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)

from plinth.db.tables import metadata

VALUE_INDEX_PREFIX = 200
"""Params and tags are indexed on the first characters of their value (PostgreSQL's btree
rows are limited to ~2.7 kB); equality filters test this prefix too, so the index applies."""


def only_when_set(column: str) -> dict[str, Any]:
    """A partial index's condition: rows where ``column`` is NULL are left out. Every query
    such an index serves compares the column (which implies NOT NULL, on both databases),
    and leaving the NULLs out spares a run's write the index leaves it would dirty: string
    params (all of MLflow's) have no number, most runs no parent."""
    condition = text(f"{column} IS NOT NULL")
    return {"sqlite_where": condition, "postgresql_where": condition}


projects = Table(
    "projects",
    metadata,
    Column("name", String(250), primary_key=True),
    Column("description", Text, nullable=False, default=""),
    Column("created_at", BigInteger, nullable=False),
    Column("created_by", String(250), nullable=False),
)

experiments = Table(
    "experiments",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("project", String(250), ForeignKey("projects.name"), nullable=False),
    Column("name", String(250), nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("lifecycle_stage", String(16), nullable=False, default="active"),
    Column("created_at", BigInteger, nullable=False),
    Column("created_by", String(250), nullable=False),
    UniqueConstraint("project", "name"),
)

experiment_tags = Table(
    "experiment_tags",
    metadata,
    Column("experiment_id", String(32), ForeignKey("experiments.id"), primary_key=True),
    Column("key", String(250), primary_key=True),
    Column("value", Text, nullable=False),
)

runs = Table(
    "runs",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("experiment_id", String(32), ForeignKey("experiments.id"), nullable=False),
    Column("name", String(250), nullable=False),
    Column("status", String(16), nullable=False),
    Column("start_time", BigInteger, nullable=False),
    Column("end_time", BigInteger),
    Column("user_name", String(250)),
    Column("source_script", String(4096)),
    Column("git_commit", String(64)),
    Column("git_dirty", Boolean),
    Column("git_branch", String(250)),
    Column("parent_run_id", String(32)),
    Column("notes", Text, nullable=False, default=""),
    Column("lifecycle_stage", String(16), nullable=False, default="active"),
    Column("created_by", String(250), nullable=False),
    Index(None, "experiment_id", "lifecycle_stage", "start_time"),
    Index(None, "parent_run_id", **only_when_set("parent_run_id")),
)

params = Table(
    "params",
    metadata,
    Column("run_id", String(32), ForeignKey("runs.id"), primary_key=True),
    Column("key", String(250), primary_key=True),
    Column("value", Text, nullable=False),
    Column("value_type", String(8), nullable=False),
    Column("value_num", Float),
    Index("ix_params_key_value_prefix", "key", func.substr("value", 1, VALUE_INDEX_PREFIX)),
    Index(None, "key", "value_num", **only_when_set("value_num")),
)

run_tags = Table(
    "run_tags",
    metadata,
    Column("run_id", String(32), ForeignKey("runs.id"), primary_key=True),
    Column("key", String(250), primary_key=True),
    Column("value", Text, nullable=False),
    Index("ix_run_tags_key_value_prefix", "key", func.substr("value", 1, VALUE_INDEX_PREFIX)),
)

metric_series = Table(
    "metric_series",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(32), ForeignKey("runs.id"), nullable=False),
    Column("key", String(250), nullable=False),
    Column("latest_value", Float),
    Column("latest_step", BigInteger, nullable=False),
    Column("latest_timestamp", BigInteger, nullable=False),
    Column("point_count", BigInteger, nullable=False, default=0),
    Column("small_chunks", Integer, nullable=False, default=0, server_default="0"),
    UniqueConstraint("run_id", "key"),
    Index(None, "key", "latest_value"),
)

metric_chunks = Table(
    "metric_chunks",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("series_id", Integer, ForeignKey("metric_series.id"), nullable=False),
    Column("first_step", BigInteger, nullable=False),
    Column("last_step", BigInteger, nullable=False),
    Column("point_count", Integer, nullable=False),
    Column("steps", LargeBinary, nullable=False),
    Column("timestamps", LargeBinary, nullable=False),
    Column("point_values", LargeBinary, nullable=False),
    Index(None, "series_id", "last_step"),
)

applied_batches = Table(
    "applied_batches",
    metadata,
    Column("batch_id", String(64), primary_key=True),
    Column("run_id", String(32), nullable=False),
    Column("points", Integer, nullable=False),
    Column("applied_at", BigInteger, nullable=False),
    Column("actor", String(250), nullable=False),
)

datasets = Table(
    "datasets",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("project", String(250), ForeignKey("projects.name"), nullable=False),
    Column("name", String(250), nullable=False),
    Column("digest", String(128), nullable=False),
    Column("schema_json", Text),
    Column("source", String(4096)),
    Column("num_rows", BigInteger),
    Column("created_at", BigInteger, nullable=False),
    UniqueConstraint("project", "name", "digest"),
)

run_inputs = Table(
    "run_inputs",
    metadata,
    Column("run_id", String(32), ForeignKey("runs.id"), primary_key=True),
    Column("dataset_id", String(32), ForeignKey("datasets.id"), primary_key=True),
    Column("context", String(250), primary_key=True),
    Index(None, "dataset_id"),
)
