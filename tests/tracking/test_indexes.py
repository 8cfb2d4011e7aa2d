"""The partial indexes: NULLs left out on both databases, and SQLite still picks them for
the filters they exist for (a numeric param comparison, a parent run lookup)."""

from __future__ import annotations

from sqlalchemy import text

from plinth.db.engine import Database
from plinth.db.migrate import upgrade

PARTIAL = {"ix_params_key_value_num": "value_num", "ix_runs_parent_run_id": "parent_run_id"}


def test_the_indexes_leave_nulls_out(database_url: str) -> None:
    database = Database(database_url)
    upgrade(database)
    with database.engine.connect() as conn:
        if database.engine.dialect.name == "sqlite":
            rows = conn.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'index'"))
        else:
            rows = conn.execute(text("SELECT indexname, indexdef FROM pg_indexes"))
        definitions = {name: sql for name, sql in rows if name in PARTIAL}
    database.dispose()
    assert set(definitions) == set(PARTIAL)
    for name, column in PARTIAL.items():
        normalized = definitions[name].replace("(", "").replace(")", "").replace('"', "")
        assert f"WHERE {column} IS NOT NULL" in normalized, definitions[name]


def _plan(database: Database, sql: str) -> str:
    with database.engine.connect() as conn:
        rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}").all()
    return "\n".join(str(row[-1]) for row in rows)


def test_sqlite_can_use_the_partial_indexes_for_the_lookups_search_makes(
    tmp_path: object,
) -> None:
    """The shapes ``sql_search`` compiles: a comparison implies NOT NULL, so the planner may
    take the partial index (a plain ``IS NULL`` test could not)."""
    database = Database(f"sqlite:///{tmp_path}/plinth.db")
    upgrade(database)
    try:
        numeric = "SELECT run_id FROM params WHERE key = 'lr' AND value_num > 0.5"
        assert "USING INDEX ix_params_key_value_num" in _plan(database, numeric)
        child = "SELECT id FROM runs WHERE parent_run_id = 'a'"
        assert "USING INDEX ix_runs_parent_run_id" in _plan(database, child)
        unset = "SELECT id FROM runs WHERE parent_run_id IS NULL"
        assert "ix_runs_parent_run_id" not in _plan(database, unset)
    finally:
        database.dispose()
