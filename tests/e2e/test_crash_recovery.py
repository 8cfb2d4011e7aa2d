"""A server killed (SIGKILL) in the middle of a client's metric stream loses nothing that it
acknowledged and stores nothing twice; the client's later points arrive once it is back.

The server is a real ``plinth server`` process on SQLite, restarted on the same port and
data dir. The client either retries until the server is back (long ``http_retry_seconds``)
or gives up quickly, spools to disk, and replays the spool on its next write.
"""

from __future__ import annotations

import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.servers import free_port, start_plinth_process, stop_process, wait_until_ready

import plinth
from plinth.client.http import HttpClient
from plinth.client.spool import Spool
from plinth.client.tracking import RestTrackingStore
from plinth.entities.tracking import BatchResult, MetricBatch, RunBatch, RunCreate

pytestmark = pytest.mark.e2e

Point = tuple[int, float]


def _value(step: int) -> float:
    return step / 8 - 3.0


class RestartableServer:
    """``plinth server`` on a fixed port and data dir that can be killed and started again."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = start_plinth_process(self.data_dir, self.port)
        wait_until_ready(self.url, process=self.process)

    def kill(self) -> None:
        """SIGKILL: no shutdown handlers, no graceful close of in-flight requests."""
        assert self.process is not None
        self.process.kill()
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)

    def history(self, run_id: str, key: str) -> list[Point]:
        response = httpx.get(
            f"{self.url}/api/v1/runs/{run_id}/metric-history", params={"key": key}, timeout=30
        )
        response.raise_for_status()
        body = response.json()
        assert body["total_points"] == len(body["steps"])
        return list(zip(body["steps"], body["values"], strict=True))

    def stored_count(self, run_id: str, key: str) -> int:
        """Points stored so far (0 while the run itself has not reached the server)."""
        response = httpx.get(
            f"{self.url}/api/v1/runs/{run_id}/metric-history", params={"key": key}, timeout=30
        )
        return 0 if response.status_code == 404 else len(self.history(run_id, key))

    def get_run(self, run_id: str) -> dict[str, Any]:
        response = httpx.get(f"{self.url}/api/v1/runs/{run_id}", timeout=30)
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RestartableServer]:
    data_dir = tmp_path / "server"
    data_dir.mkdir()
    restartable = RestartableServer(data_dir)
    restartable.start()
    try:
        yield restartable
    finally:
        restartable.stop()


def _wait_for(condition: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def _assert_exactly_once(stored: list[Point], logged: list[Point]) -> None:
    duplicates = [point for point, n in Counter(stored).items() if n > 1]
    assert not duplicates, f"stored twice: {duplicates[:10]}"
    missing = sorted(set(logged) - set(stored))
    assert not missing, f"{len(missing)} logged points missing, first {missing[:10]}"
    assert Counter(stored) == Counter(logged)


@pytest.fixture
def sdk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str, float], Path]]:
    """Point the SDK at a server, with its own spool dir; closed (and reset) at the end."""

    def connect(url: str, retry_seconds: float) -> Path:
        client_dir = tmp_path / "client"
        monkeypatch.setenv("PLINTH_DATA_DIR", str(client_dir))
        monkeypatch.setenv("PLINTH_HTTP_RETRY_SECONDS", str(retry_seconds))
        monkeypatch.setenv("PLINTH_HTTP_TIMEOUT", "10")
        monkeypatch.setenv("PLINTH_FLUSH_INTERVAL", "0.02")
        monkeypatch.setenv("PLINTH_SYSTEM_METRICS", "false")
        plinth.set_url(url)
        return client_dir / "spool"

    yield connect
    try:
        while (active := plinth.active_run()) is not None:
            plinth.end_run("killed", run_id=active.id)
    finally:
        plinth.set_url(None)


@pytest.mark.parametrize(
    "retry_seconds", [30.0, 0.3], ids=["retries-bridge-the-restart", "spools-then-syncs"]
)
def test_sdk_stream_survives_a_sigkilled_server(
    server: RestartableServer, sdk: Callable[[str, float], Path], retry_seconds: float
) -> None:
    spool_dir = sdk(server.url, retry_seconds)
    spools = retry_seconds < 1
    run = plinth.start_run(name="sigkilled")
    logged: list[Point] = []
    stop = threading.Event()

    def training_loop() -> None:
        """Logs without pause through the kill and the restart (log_metric never blocks)."""
        step = 0
        while not stop.is_set():
            plinth.log_metric("loss", _value(step), step=step)
            logged.append((step, _value(step)))
            step += 1
            if step % 20 == 0:
                time.sleep(0.002)

    trainer = threading.Thread(target=training_loop)
    trainer.start()
    try:
        _wait_for(lambda: server.stored_count(run.id, "loss") >= 1_000)
        acknowledged = server.history(run.id, "loss")  # stored and readable: must survive
        server.kill()
        points_at_kill = len(logged)
        _wait_for(lambda: len(logged) >= points_at_kill + 2_000)  # logged while it is down
        if spools:
            _wait_for(lambda: bool(Spool(spool_dir).pending()))  # the client gave up: spooled
        server.start()
        points_at_restart = len(logged)
        _wait_for(lambda: len(logged) >= points_at_restart + 2_000)  # and after the restart
    finally:
        stop.set()
        trainer.join(timeout=30)
    plinth.end_run()

    stored = server.history(run.id, "loss")
    assert Counter(acknowledged) - Counter(stored) == Counter(), "acknowledged points lost"
    _assert_exactly_once(stored, logged)
    assert points_at_kill < points_at_restart < len(logged)
    assert server.get_run(run.id)["status"] == "finished"
    if spools:
        assert Spool(spool_dir).pending() == []  # replayed by the writes after the restart
        assert not (spool_dir / "failed").exists()
    else:
        assert not spool_dir.exists()  # the retries bridged the restart: nothing spooled


def _batch(number: int, size: int = 200) -> RunBatch:
    steps = list(range(number * size, (number + 1) * size))
    return RunBatch(
        batch_id=f"stream-{number:06d}",
        metrics=MetricBatch(
            keys=["loss"] * size,
            values=[_value(s) for s in steps],
            steps=steps,
            timestamps=[1_000 + s for s in steps],
        ),
    )


def test_rest_store_acknowledged_batches_survive_a_sigkill(
    server: RestartableServer, tmp_path: Path
) -> None:
    """Batch by batch: what the server acknowledged before the kill is there exactly once;
    the batch in flight at the kill is retried with backoff under its idempotency key."""
    spool = Spool(tmp_path / "client-spool")
    store = RestTrackingStore(HttpClient(server.url, retry_seconds=30, timeout=10), spool)
    run = store.create_run(RunCreate(name="rest-sigkilled"))
    results: list[tuple[int, BatchResult]] = []
    killed = threading.Event()
    stop = threading.Event()

    def stream() -> None:
        number = 0
        while not stop.is_set():
            results.append((number, store.log_batch(run.id, _batch(number))))
            number += 1

    streamer = threading.Thread(target=stream)
    streamer.start()
    try:
        _wait_for(lambda: len(results) >= 20)
        server.kill()
        killed.set()
        acknowledged_before_kill = [n for n, r in list(results) if r.applied and not r.spooled]
        time.sleep(0.5)  # the streamer is now retrying against a dead port
        stalled_at = len(results)
        server.start()
        _wait_for(lambda: len(results) >= stalled_at + 20)
    finally:
        stop.set()
        streamer.join(timeout=60)
        store.http.close()

    assert not any(r.spooled for _, r in results), "retries should have bridged the restart"
    sent = [n for n, _ in results]
    assert sent == list(range(len(sent)))
    stored = server.history(run.id, "loss")
    expected = [(s, _value(s)) for n in sent for s in range(n * 200, (n + 1) * 200)]
    _assert_exactly_once(stored, expected)
    stored_steps = {s for s, _ in stored}
    for number in acknowledged_before_kill:
        assert number * 200 in stored_steps
    assert len(acknowledged_before_kill) >= 20
