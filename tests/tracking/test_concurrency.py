"""Sixteen concurrent writers lose nothing and hit no lock errors, on SQLite and PostgreSQL,
straight through the SQL store and through a real server over HTTP.

Each writer logs batches to its own run and, interleaved, to one run they all share: new
metric series, overlapping tags and distinct params on the shared run, in an order that
differs per writer, so the database sees concurrent inserts and updates of the same rows.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from plinth.client.http import HttpClient
from plinth.client.tracking import RestTrackingStore
from plinth.db.engine import Database
from plinth.db.migrate import upgrade
from plinth.entities.tracking import MetricBatch, RunBatch, RunCreate
from plinth.tracking.sql import SqlTrackingStore
from plinth.tracking.store import TrackingStore
from tests.servers import plinth_process

WRITERS = 16
OWN_BATCHES = 12
OWN_POINTS = 250
SHARED_BATCHES = 4
SHARED_POINTS = 20
SHARED_KEYS = ["shared/a", "shared/b", "shared/c"]

LogBatch = Callable[[str, RunBatch], object]


def _own_batch(writer: int, number: int) -> RunBatch:
    first = number * OWN_POINTS
    steps = list(range(first, first + OWN_POINTS))
    keys = ["loss" if s % 2 else "acc" for s in steps]
    return RunBatch(
        batch_id=f"own-{writer:02d}-{number:04d}",
        metrics=MetricBatch(
            keys=keys,
            values=[writer + s / 1000 for s in steps],
            steps=steps,
            timestamps=[1_000 + s for s in steps],
        ),
        params={f"p{number}": number},
    )


def _shared_batch(writer: int, number: int) -> RunBatch:
    """Keys rotated per writer, so concurrent transactions meet the same rows in other orders."""
    keys = SHARED_KEYS[writer % 3 :] + SHARED_KEYS[: writer % 3] + [f"writer/{writer:02d}"]
    steps = [writer * 1_000 + number * SHARED_POINTS + i for i in range(SHARED_POINTS)]
    columns = [(k, s) for s in steps for k in keys]
    return RunBatch(
        batch_id=f"shared-{writer:02d}-{number:04d}",
        metrics=MetricBatch(
            keys=[k for k, _ in columns],
            values=[float(s) for _, s in columns],
            steps=[s for _, s in columns],
            timestamps=[1_000 + s for _, s in columns],
        ),
        params={f"writer{writer:02d}.batch{number}": writer},
        tags={k.replace("/", "."): f"{writer}" for k in keys[:3]},
    )


def _write_concurrently(
    log_batch_for: Callable[[int], LogBatch], own_runs: list[str], shared_run: str
) -> None:
    """Run the writers; re-raise the first failure any of them met."""
    start = threading.Barrier(WRITERS)
    failures: list[BaseException] = []

    def writer(index: int) -> None:
        try:
            log_batch = log_batch_for(index)
            start.wait(timeout=30)
            for number in range(OWN_BATCHES):
                log_batch(own_runs[index], _own_batch(index, number))
                if number < SHARED_BATCHES:
                    log_batch(shared_run, _shared_batch(index, number))
        except BaseException as exc:
            failures.append(exc)
            start.abort()

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a writer hung"
    if failures:
        raise failures[0]


def _assert_everything_stored(store: TrackingStore, own_runs: list[str], shared_run: str) -> None:
    """Exact contents: every point once, every param, the right latest values."""
    for writer, run_id in enumerate(own_runs):
        expected_steps = range(OWN_BATCHES * OWN_POINTS)
        for key, parity in (("acc", 0), ("loss", 1)):
            history = store.get_metric_history(run_id, key)
            wanted = [s for s in expected_steps if s % 2 == parity]
            assert history.total_points == len(wanted)
            assert history.steps == wanted
            assert history.values == [writer + s / 1000 for s in wanted]
        run = store.get_run(run_id)
        assert run.params == {f"p{n}": n for n in range(OWN_BATCHES)}
        assert run.metrics["loss"].step == OWN_BATCHES * OWN_POINTS - 1
    shared = store.get_run(shared_run)
    assert len(shared.params) == WRITERS * SHARED_BATCHES
    assert set(shared.tags) == {k.replace("/", ".") for k in SHARED_KEYS}
    per_writer = SHARED_BATCHES * SHARED_POINTS
    for key in SHARED_KEYS:
        history = store.get_metric_history(shared_run, key)
        assert history.total_points == WRITERS * per_writer
        assert Counter(history.steps) == Counter(
            w * 1_000 + i for w in range(WRITERS) for i in range(per_writer)
        )
        assert history.values == [float(s) for s in history.steps]
    for writer in range(WRITERS):
        history = store.get_metric_history(shared_run, f"writer/{writer:02d}")
        assert history.steps == [writer * 1_000 + i for i in range(per_writer)]


def _create_runs(store: TrackingStore) -> tuple[list[str], str]:
    own = [store.create_run(RunCreate(name=f"writer-{i}")).id for i in range(WRITERS)]
    return own, store.create_run(RunCreate(name="shared")).id


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    db = Database(database_url)
    upgrade(db)
    yield db
    db.dispose()


def test_sixteen_writers_through_the_sql_store(database: Database) -> None:
    """Writers share one Database, as the server's request threads do."""
    store = SqlTrackingStore(database, "local")
    own_runs, shared_run = _create_runs(store)

    def log_batch_for(index: int) -> LogBatch:
        return SqlTrackingStore(database, f"writer-{index}").log_batch

    _write_concurrently(log_batch_for, own_runs, shared_run)
    _assert_everything_stored(store, own_runs, shared_run)


@pytest.mark.e2e
def test_sixteen_writers_through_a_server_on_sqlite(tmp_path: Path) -> None:
    """Each writer has its own HTTP client and no retries or spool: any 5xx fails at once."""
    with plinth_process(tmp_path) as (url, _process):
        clients = [HttpClient(url, retry_seconds=0) for _ in range(WRITERS)]
        reader = RestTrackingStore(HttpClient(url, retry_seconds=0))
        try:
            own_runs, shared_run = _create_runs(reader)
            _write_concurrently(
                lambda i: RestTrackingStore(clients[i]).log_batch, own_runs, shared_run
            )
            _assert_everything_stored(reader, own_runs, shared_run)
            exposition = httpx.get(f"{url}/metrics").text
        finally:
            for client in [*clients, reader.http]:
                client.close()
    batches = WRITERS * (OWN_BATCHES + SHARED_BATCHES)
    assert f'plinth_metric_batches_total{{outcome="applied"}} {float(batches)}' in exposition
    assert 'status="200"' in exposition
    assert 'status="5' not in exposition  # no request failed on the server side either
