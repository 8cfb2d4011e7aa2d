"""Small batches are written on the event loop, but never by waiting there for a lock."""

from __future__ import annotations

import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from plinth.config import Settings
from plinth.db.engine import Database, WriteWouldWait
from plinth.db.migrate import upgrade
from tests.servers import threaded_plinth


def _batch(points: int) -> dict[str, object]:
    return {
        "metrics": {
            "keys": ["m"] * points,
            "values": [0.5] * points,
            "steps": list(range(points)),
            "timestamps": [1] * points,
        }
    }


@pytest.mark.parametrize("points", [5, 5000])  # in place, and the threadpool
def test_a_batch_waiting_for_the_sqlite_write_lock_leaves_the_server_answering(
    tmp_path: Path, points: int
) -> None:
    settings = Settings(data_dir=tmp_path, system_metrics=False)
    with (
        threaded_plinth(settings) as url,
        httpx.Client(base_url=url, timeout=30) as client,
        ThreadPoolExecutor(1) as pool,
    ):
        run_id = client.post("/api/v1/runs", json={}).json()["id"]
        holder = sqlite3.connect(tmp_path / "plinth.db", isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # another writer holds the file's write lock
        try:
            pending = pool.submit(client.post, f"/api/v1/runs/{run_id}/batch", json=_batch(points))
            time.sleep(0.3)
            assert not pending.done()  # it waits for the lock...
            started = time.perf_counter()
            assert client.get("/healthz").status_code == 200  # ...and the loop does not
            assert time.perf_counter() - started < 2
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        response = pending.result(timeout=30)
        assert response.status_code == 200, response.text
        history = client.get(f"/api/v1/runs/{run_id}/metric-history", params={"key": "m"})
        assert history.json()["total_points"] == points


def test_a_write_without_waiting_refuses_a_taken_lock_and_writes_nothing(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'plinth.db'}")
    upgrade(database)
    taken, release = threading.Event(), threading.Event()

    def hold_the_lock() -> None:
        with database.write():
            taken.set()
            release.wait(10)

    holder = threading.Thread(target=hold_the_lock)
    holder.start()
    try:
        assert taken.wait(10)
        with pytest.raises(WriteWouldWait), database.without_waiting(), database.write() as conn:
            conn.execute(text("INSERT INTO projects VALUES ('x', '', 0, 't')"))
    finally:
        release.set()
        holder.join()
    with database.without_waiting(), database.write() as conn:  # free now: in place
        conn.execute(text("INSERT INTO projects VALUES ('y', '', 0, 't')"))
    with database.read() as conn:
        names = set(conn.execute(text("SELECT name FROM projects")).scalars())
    assert "x" not in names
    assert "y" in names
    database.dispose()
