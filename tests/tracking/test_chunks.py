"""Metric points in chunks: splitting, compaction, windows, ties, and the 0001 -> 0002 move."""

from __future__ import annotations

import math
import random

from sqlalchemy import select, text

from plinth.db.engine import Database
from plinth.db.migrate import upgrade
from plinth.db.tables.tracking import metric_chunks, metric_series
from plinth.entities.common import new_id
from plinth.entities.tracking import MetricBatch, RunBatch, RunCreate
from plinth.tracking.chunks import CHUNK_POINTS
from plinth.tracking.sql import SqlTrackingStore
from plinth.tracking.sql_chunks import COMPACT_AFTER


def _store(database_url: str) -> SqlTrackingStore:
    database = Database(database_url)
    upgrade(database)
    return SqlTrackingStore(database, "test")


def _batch(steps: list[int], values: list[float], key: str = "m") -> RunBatch:
    return RunBatch(
        batch_id=new_id(),
        metrics=MetricBatch(
            keys=[key] * len(steps), values=values, steps=steps, timestamps=[7] * len(steps)
        ),
    )


def _chunk_counts(store: SqlTrackingStore, run_id: str) -> tuple[int, int]:
    with store.database.read() as conn:
        sid = conn.execute(
            select(metric_series.c.id, metric_series.c.small_chunks).where(
                metric_series.c.run_id == run_id
            )
        ).one()
        chunks = conn.execute(
            select(metric_chunks.c.id).where(metric_chunks.c.series_id == sid.id)
        ).all()
    return len(chunks), sid.small_chunks


def test_small_batches_are_compacted_and_nothing_is_lost(database_url: str) -> None:
    store = _store(database_url)
    run = store.create_run(RunCreate())
    n = COMPACT_AFTER * 3 + 5
    for step in range(n):
        store.log_batch(run.id, _batch([step], [step * 0.5]))
    chunks, small = _chunk_counts(store, run.id)
    assert chunks < COMPACT_AFTER
    assert small < COMPACT_AFTER
    history = store.get_metric_history(run.id, "m")
    assert history.steps == list(range(n))
    assert history.values == [s * 0.5 for s in range(n)]


def test_big_batches_split_and_windows_cross_chunks(database_url: str) -> None:
    store = _store(database_url)
    run = store.create_run(RunCreate())
    n = CHUNK_POINTS * 2 + 100
    steps = list(range(n))
    random.Random(1).shuffle(steps)  # points need not arrive in order
    store.log_batch(run.id, _batch(steps, [float(s) for s in steps]))
    assert _chunk_counts(store, run.id)[0] == 3
    history = store.get_metric_history(run.id, "m")
    assert history.steps == list(range(n))
    window = store.get_metric_history(
        run.id, "m", min_step=CHUNK_POINTS - 5, max_step=CHUNK_POINTS + 5
    )
    assert window.steps == list(range(CHUNK_POINTS - 5, CHUNK_POINTS + 6))
    assert window.values == [float(s) for s in window.steps]


def test_equal_steps_keep_their_arrival_order(database_url: str) -> None:
    store = _store(database_url)
    run = store.create_run(RunCreate())
    store.log_batch(run.id, _batch([1, 1], [10.0, 20.0]))
    store.log_batch(run.id, _batch([1, 0], [30.0, float("nan")]))
    history = store.get_metric_history(run.id, "m")
    assert history.steps == [0, 1, 1, 1]
    assert math.isnan(history.values[0])
    assert history.values[1:] == [10.0, 20.0, 30.0]


def test_points_written_before_chunks_survive_the_migration(database_url: str) -> None:
    database = Database(database_url)
    upgrade(database, "0001")
    run_id = new_id()
    with database.write() as conn:
        conn.execute(
            text(
                "INSERT INTO runs (id, experiment_id, name, status, start_time, notes,"
                " lifecycle_stage, created_by) VALUES (:id, :exp, 'old', 'finished', 1, '',"
                " 'active', 'test')"
            ),
            {"id": run_id, "exp": "0" * 32},
        )
        conn.execute(
            text(
                "INSERT INTO metric_series (run_id, key, latest_value, latest_step,"
                " latest_timestamp, point_count) VALUES (:run, 'loss', 0.5, 2, 3, 3)"
            ),
            {"run": run_id},
        )
        sid = conn.execute(text("SELECT id FROM metric_series")).scalar_one()
        conn.execute(
            text("INSERT INTO metrics VALUES (:sid, :step, :ts, :value)"),
            [
                {"sid": sid, "step": 2, "ts": 3, "value": 0.5},
                {"sid": sid, "step": 0, "ts": 1, "value": None},
                {"sid": sid, "step": 1, "ts": 2, "value": float("inf")},
            ],
        )
    upgrade(database)
    history = SqlTrackingStore(database, "test").get_metric_history(run_id, "loss")
    assert history.steps == [0, 1, 2]
    assert math.isnan(history.values[0])
    assert history.values[1:] == [math.inf, 0.5]
