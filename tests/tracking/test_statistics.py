"""PostgreSQL right after a bulk import: the first search analyzes tables that have rows but
no planner statistics yet, instead of running on a one-row guess for a minute."""

from __future__ import annotations

import pytest
from sqlalchemy import bindparam, text

from plinth.db.engine import Database
from plinth.db.migrate import upgrade
from plinth.db.statistics import ensure_statistics
from plinth.entities.tracking import ExperimentCreate, RunBatch, RunCreate, RunQuery
from plinth.tracking.sql import SqlTrackingStore
from tests.servers import PostgresCluster

pytestmark = pytest.mark.postgres

ANALYZED = text("SELECT relname FROM pg_class WHERE reltuples >= 0 AND relname IN :names")
ANALYZED = ANALYZED.bindparams(bindparam("names", ["runs", "params"], expanding=True))


def test_the_first_search_analyzes_fresh_tables_once(postgres: PostgresCluster) -> None:
    database = Database(postgres.new_database())
    upgrade(database)
    store = SqlTrackingStore(database, "tester")
    with database.engine.connect() as conn:  # autovacuum must not beat the search to it
        for table in ("runs", "params"):
            conn.exec_driver_sql(f"ALTER TABLE {table} SET (autovacuum_enabled = false)")
        conn.commit()
    experiment = store.create_experiment(ExperimentCreate(name="bulk")).id
    assert ensure_statistics(database) == []  # empty tables: nothing worth analyzing
    for i in range(1500):
        create = RunCreate(experiment_id=experiment, params={"lr": i % 3, "seed": i})
        store.log_batch(f"{i:032x}", RunBatch(create=create))
    assert ensure_statistics(database) == []  # checked a moment ago: not again so soon
    database.caches.clear()
    store.search_runs(RunQuery(experiment_ids=[experiment], filter="params.lr = 1"))
    with database.engine.connect() as conn:
        analyzed = conn.execute(ANALYZED).scalars()
        assert sorted(analyzed) == ["params", "runs"]
    database.caches.clear()
    assert ensure_statistics(database) == []  # analyzed now: nothing left to do
    database.dispose()
