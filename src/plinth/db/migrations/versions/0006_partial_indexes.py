"""The (key, value_num) index of params and the parent_run_id index of runs leave out rows
where the column is NULL: no query looks those up, and each created run wrote them (a
string param's entry alone cost ~0.25 ms of a run's commit, bench/LIMITS.md).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_INDEXES = (
    ("ix_params_key_value_num", "params", ["key", "value_num"], "value_num"),
    ("ix_runs_parent_run_id", "runs", ["parent_run_id"], "parent_run_id"),
)


def upgrade() -> None:
    for name, table, columns, column in _INDEXES:
        condition = sa.text(f"{column} IS NOT NULL")
        op.drop_index(name, table_name=table)
        op.create_index(name, table, columns, sqlite_where=condition, postgresql_where=condition)


def downgrade() -> None:
    for name, table, columns, _column in _INDEXES:
        op.drop_index(name, table_name=table)
        op.create_index(name, table, columns)
