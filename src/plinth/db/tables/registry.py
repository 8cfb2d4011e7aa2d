"""Model registry tables.

Versions are immutable rows; an alias is one row moved by compare-and-set (``UPDATE ...
WHERE version = expected``), and every move is appended to ``alias_moves``. Registry events
and their webhook deliveries are written in the same transaction as the change they
describe (an outbox), and delivered later by ``registry.webhooks``.
"""

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from plinth.db.tables import metadata

registered_models = Table(
    "registered_models",
    metadata,
    Column("name", String(250), primary_key=True),
    Column("project", String(250), ForeignKey("projects.name"), nullable=False),
    Column("description", Text, nullable=False),
    Column("owner", String(250), nullable=False),
    Column("created_by", String(250), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Column("version_counter", Integer, nullable=False),
    Index(None, "project", "name"),
)

registered_model_tags = Table(
    "registered_model_tags",
    metadata,
    Column("model", String(250), ForeignKey("registered_models.name"), primary_key=True),
    Column("key", String(250), primary_key=True),
    Column("value", Text, nullable=False),
)

model_versions = Table(
    "model_versions",
    metadata,
    Column("model", String(250), ForeignKey("registered_models.name"), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("run_id", String(32), nullable=False),
    Column("artifact_path", String(1024), nullable=False),
    Column("digest", String(64), nullable=False),
    Column("flavor", String(64), nullable=False),
    Column("format", String(64), nullable=False),
    Column("signature_json", Text),
    Column("scan", String(16), nullable=False),
    Column("metrics_json", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("description", Text, nullable=False),
    Column("created_by", String(250), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("request_id", String(64)),
    Index(None, "run_id"),
    Index(None, "request_id", unique=True),
)

model_version_inputs = Table(
    "model_version_inputs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("model", String(250), nullable=False),
    Column("version", Integer, nullable=False),
    Column("project", String(250), nullable=False),
    Column("dataset_name", String(250), nullable=False),
    Column("digest", String(128), nullable=False),
    Column("context", String(250), nullable=False),
    ForeignKeyConstraint(["model", "version"], ["model_versions.model", "model_versions.version"]),
    Index(None, "model", "version"),
    Index(None, "project", "dataset_name", "digest"),
)

model_aliases = Table(
    "model_aliases",
    metadata,
    Column("model", String(250), primary_key=True),
    Column("alias", String(64), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Column("updated_by", String(250), nullable=False),
    ForeignKeyConstraint(["model", "version"], ["model_versions.model", "model_versions.version"]),
    Index(None, "model", "version"),
)

alias_moves = Table(
    "alias_moves",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("model", String(250), ForeignKey("registered_models.name"), nullable=False),
    Column("alias", String(64), nullable=False),
    Column("from_version", Integer),
    Column("to_version", Integer, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("actor", String(250), nullable=False),
    Column("at", BigInteger, nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("reason", Text, nullable=False),
    Column("gate_results_json", Text, nullable=False),
    Column("request_id", String(32)),
    Index(None, "model", "alias", "seq"),
)

model_gates = Table(
    "model_gates",
    metadata,
    Column("model", String(250), ForeignKey("registered_models.name"), primary_key=True),
    Column("gates_json", Text, nullable=False),
    Column("updated_by", String(250), nullable=False),
    Column("updated_at", BigInteger, nullable=False),
)

model_approvers = Table(
    "model_approvers",
    metadata,
    Column("model", String(250), ForeignKey("registered_models.name"), primary_key=True),
    Column("user_name", String(250), primary_key=True),
    Column("role", String(250), primary_key=True),
    Column("added_by", String(250), nullable=False),
    Column("added_at", BigInteger, nullable=False),
)

promotion_requests = Table(
    "promotion_requests",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("model", String(250), ForeignKey("registered_models.name"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("alias", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("reason", Text, nullable=False),
    Column("from_version", Integer),
    Column("gate_results_json", Text, nullable=False),
    Column("created_by", String(250), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("decided_by", String(250)),
    Column("decided_at", BigInteger),
    Index(None, "model", "status", "created_at"),
)

promotion_approvals = Table(
    "promotion_approvals",
    metadata,
    Column("request_id", String(32), ForeignKey("promotion_requests.id"), primary_key=True),
    Column("actor", String(250), primary_key=True),
    Column("decision", String(16), nullable=False),
    Column("comment", Text, nullable=False),
    Column("at", BigInteger, nullable=False),
)

webhooks = Table(
    "webhooks",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("url", String(2048), nullable=False),
    Column("secret", String(256), nullable=False),
    Column("events_json", Text, nullable=False),
    Column("model", String(250)),
    Column("description", Text, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("created_by", String(250), nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

registry_events = Table(
    "registry_events",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("type", String(100), nullable=False),
    Column("model", String(250), nullable=False),
    Column("subject", String(600), nullable=False),
    Column("time", BigInteger, nullable=False),
    Column("actor", String(250), nullable=False),
    Column("data_json", Text, nullable=False),
    Index(None, "time"),
)

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("webhook_id", String(32), ForeignKey("webhooks.id"), nullable=False),
    Column("event_id", String(32), ForeignKey("registry_events.id"), nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempt_count", Integer, nullable=False),
    Column("next_attempt_at", BigInteger),
    Column("created_at", BigInteger, nullable=False),
    Column("delivered_at", BigInteger),
    Index(None, "status", "next_attempt_at"),
    Index(None, "webhook_id", "created_at"),
)

webhook_attempts = Table(
    "webhook_attempts",
    metadata,
    Column("delivery_id", String(32), ForeignKey("webhook_deliveries.id"), primary_key=True),
    Column("attempt", Integer, primary_key=True),
    Column("at", BigInteger, nullable=False),
    Column("status_code", Integer),
    Column("error", Text),
    Column("duration_ms", Integer, nullable=False),
)
