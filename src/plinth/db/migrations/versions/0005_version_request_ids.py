"""Model versions remember the idempotency key of the request that registered them, so a
retried registration returns the version it created instead of registering again.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("model_versions", sa.Column("request_id", sa.String(length=64), nullable=True))
    op.create_index("ix_model_versions_request_id", "model_versions", ["request_id"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_model_versions_request_id", table_name="model_versions")
    op.drop_column("model_versions", "request_id")
