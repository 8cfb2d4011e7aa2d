"""Model registry: models, versions, aliases and their history, gates, promotion requests,
approvals, approvers, registry events and webhook deliveries (an outbox).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "registry_events",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("type", sa.String(length=100), nullable=False),
        sa.Column("model", sa.String(length=250), nullable=False),
        sa.Column("subject", sa.String(length=600), nullable=False),
        sa.Column("time", sa.BigInteger(), nullable=False),
        sa.Column("actor", sa.String(length=250), nullable=False),
        sa.Column("data_json", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_registry_events"),
    )
    op.create_index("ix_registry_events_time", "registry_events", ["time"])
    op.create_table(
        "webhooks",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("secret", sa.String(length=256), nullable=False),
        sa.Column("events_json", sa.Text(), nullable=False),
        sa.Column("model", sa.String(length=250), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=250), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_webhooks"),
    )
    op.create_table(
        "registered_models",
        sa.Column("name", sa.String(length=250), nullable=False),
        sa.Column("project", sa.String(length=250), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("owner", sa.String(length=250), nullable=False),
        sa.Column("created_by", sa.String(length=250), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.Column("version_counter", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project"], ["projects.name"], name="fk_registered_models_project_projects"
        ),
        sa.PrimaryKeyConstraint("name", name="pk_registered_models"),
    )
    op.create_index("ix_registered_models_project_name", "registered_models", ["project", "name"])
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("webhook_id", sa.String(length=32), nullable=False),
        sa.Column("event_id", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempt_count", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("delivered_at", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["registry_events.id"],
            name="fk_webhook_deliveries_event_id_registry_events",
        ),
        sa.ForeignKeyConstraint(
            ["webhook_id"], ["webhooks.id"], name="fk_webhook_deliveries_webhook_id_webhooks"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_webhook_deliveries"),
    )
    op.create_index(
        "ix_webhook_deliveries_status_next_attempt_at",
        "webhook_deliveries",
        ["status", "next_attempt_at"],
    )
    op.create_index(
        "ix_webhook_deliveries_webhook_id_created_at",
        "webhook_deliveries",
        ["webhook_id", "created_at"],
    )
    op.create_table(
        "alias_moves",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("model", sa.String(length=250), nullable=False),
        sa.Column("alias", sa.String(length=64), nullable=False),
        sa.Column("from_version", sa.Integer(), nullable=True),
        sa.Column("to_version", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=250), nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("gate_results_json", sa.Text(), nullable=False),
        sa.Column("request_id", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["model"], ["registered_models.name"], name="fk_alias_moves_model_registered_models"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_alias_moves"),
    )
    op.create_index("ix_alias_moves_model_alias_seq", "alias_moves", ["model", "alias", "seq"])
    op.create_table(
        "model_approvers",
        sa.Column("model", sa.String(length=250), nullable=False),
        sa.Column("user_name", sa.String(length=250), nullable=False),
        sa.Column("role", sa.String(length=250), nullable=False),
        sa.Column("added_by", sa.String(length=250), nullable=False),
        sa.Column("added_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["model"], ["registered_models.name"], name="fk_model_approvers_model_registered_models"
        ),
        sa.PrimaryKeyConstraint("model", "user_name", "role", name="pk_model_approvers"),
    )
    op.create_table(
        "model_gates",
        sa.Column("model", sa.String(length=250), nullable=False),
        sa.Column("gates_json", sa.Text(), nullable=False),
        sa.Column("updated_by", sa.String(length=250), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["model"], ["registered_models.name"], name="fk_model_gates_model_registered_models"
        ),
        sa.PrimaryKeyConstraint("model", name="pk_model_gates"),
    )
    op.create_table(
        "model_versions",
        sa.Column("model", sa.String(length=250), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("artifact_path", sa.String(length=1024), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("flavor", sa.String(length=64), nullable=False),
        sa.Column("format", sa.String(length=64), nullable=False),
        sa.Column("signature_json", sa.Text(), nullable=True),
        sa.Column("scan", sa.String(length=16), nullable=False),
        sa.Column("metrics_json", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=250), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["model"], ["registered_models.name"], name="fk_model_versions_model_registered_models"
        ),
        sa.PrimaryKeyConstraint("model", "version", name="pk_model_versions"),
    )
    op.create_index("ix_model_versions_run_id", "model_versions", ["run_id"])
    op.create_table(
        "promotion_requests",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("model", sa.String(length=250), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("alias", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("from_version", sa.Integer(), nullable=True),
        sa.Column("gate_results_json", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=250), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("decided_by", sa.String(length=250), nullable=True),
        sa.Column("decided_at", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["model"],
            ["registered_models.name"],
            name="fk_promotion_requests_model_registered_models",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_promotion_requests"),
    )
    op.create_index(
        "ix_promotion_requests_model_status_created_at",
        "promotion_requests",
        ["model", "status", "created_at"],
    )
    op.create_table(
        "registered_model_tags",
        sa.Column("model", sa.String(length=250), nullable=False),
        sa.Column("key", sa.String(length=250), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["model"],
            ["registered_models.name"],
            name="fk_registered_model_tags_model_registered_models",
        ),
        sa.PrimaryKeyConstraint("model", "key", name="pk_registered_model_tags"),
    )
    op.create_table(
        "webhook_attempts",
        sa.Column("delivery_id", sa.String(length=32), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["webhook_deliveries.id"],
            name="fk_webhook_attempts_delivery_id_webhook_deliveries",
        ),
        sa.PrimaryKeyConstraint("delivery_id", "attempt", name="pk_webhook_attempts"),
    )
    op.create_table(
        "model_aliases",
        sa.Column("model", sa.String(length=250), nullable=False),
        sa.Column("alias", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_by", sa.String(length=250), nullable=False),
        sa.ForeignKeyConstraint(
            ["model", "version"],
            ["model_versions.model", "model_versions.version"],
            name="fk_model_aliases_model_model_versions",
        ),
        sa.PrimaryKeyConstraint("model", "alias", name="pk_model_aliases"),
    )
    op.create_index("ix_model_aliases_model_version", "model_aliases", ["model", "version"])
    op.create_table(
        "model_version_inputs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("model", sa.String(length=250), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("project", sa.String(length=250), nullable=False),
        sa.Column("dataset_name", sa.String(length=250), nullable=False),
        sa.Column("digest", sa.String(length=128), nullable=False),
        sa.Column("context", sa.String(length=250), nullable=False),
        sa.ForeignKeyConstraint(
            ["model", "version"],
            ["model_versions.model", "model_versions.version"],
            name="fk_model_version_inputs_model_model_versions",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_model_version_inputs"),
    )
    op.create_index(
        "ix_model_version_inputs_model_version", "model_version_inputs", ["model", "version"]
    )
    op.create_index(
        "ix_model_version_inputs_project_dataset_name_digest",
        "model_version_inputs",
        ["project", "dataset_name", "digest"],
    )
    op.create_table(
        "promotion_approvals",
        sa.Column("request_id", sa.String(length=32), nullable=False),
        sa.Column("actor", sa.String(length=250), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["promotion_requests.id"],
            name="fk_promotion_approvals_request_id_promotion_requests",
        ),
        sa.PrimaryKeyConstraint("request_id", "actor", name="pk_promotion_approvals"),
    )


def downgrade() -> None:
    op.drop_table("promotion_approvals")
    op.drop_index(
        "ix_model_version_inputs_project_dataset_name_digest", table_name="model_version_inputs"
    )
    op.drop_index("ix_model_version_inputs_model_version", table_name="model_version_inputs")
    op.drop_table("model_version_inputs")
    op.drop_index("ix_model_aliases_model_version", table_name="model_aliases")
    op.drop_table("model_aliases")
    op.drop_table("webhook_attempts")
    op.drop_table("registered_model_tags")
    op.drop_index("ix_promotion_requests_model_status_created_at", table_name="promotion_requests")
    op.drop_table("promotion_requests")
    op.drop_index("ix_model_versions_run_id", table_name="model_versions")
    op.drop_table("model_versions")
    op.drop_table("model_gates")
    op.drop_table("model_approvers")
    op.drop_index("ix_alias_moves_model_alias_seq", table_name="alias_moves")
    op.drop_table("alias_moves")
    op.drop_index("ix_webhook_deliveries_webhook_id_created_at", table_name="webhook_deliveries")
    op.drop_index("ix_webhook_deliveries_status_next_attempt_at", table_name="webhook_deliveries")
    op.drop_table("webhook_deliveries")
    op.drop_index("ix_registered_models_project_name", table_name="registered_models")
    op.drop_table("registered_models")
    op.drop_table("webhooks")
    op.drop_index("ix_registry_events_time", table_name="registry_events")
    op.drop_table("registry_events")
