"""Writes the server cannot take now are kept, never dropped: a proxy's 502, a 500, a 429
or a 401 (credentials can be fixed) leaves a batch in the spool; a spooled batch whose
params conflict still delivers its points (once, however often it is replayed); a clock
stepping back keeps the order."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import orjson
import pytest

from plinth.client.http import HttpClient
from plinth.client.spool import Spool, SpooledRequest
from plinth.client.tracking import RestTrackingStore
from plinth.config import Settings
from plinth.entities.common import new_id
from plinth.entities.tracking import MetricBatch, RunBatch, RunCreate
from plinth.errors import NotFound, Unavailable, error_from_problem
from tests.servers import threaded_plinth


@contextmanager
def answering(status: int, body: bytes = b"<html>Bad Gateway</html>") -> Iterator[str]:
    """A real HTTP server on loopback that answers every request with ``status``, as a
    proxy in front of a downed plinth does."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(status)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _batch(params: dict[str, object] | None = None, points: int = 3) -> RunBatch:
    return RunBatch(
        batch_id=new_id(),
        metrics=MetricBatch(
            keys=["m"] * points,
            values=[float(i) for i in range(points)],
            steps=list(range(points)),
            timestamps=[1] * points,
        ),
        params=params or {},
    )


@pytest.mark.parametrize("status", [500, 502, 504, 429, 401])
def test_a_write_answered_not_now_is_kept_in_the_spool(status: int, tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool")
    with answering(status) as url:
        store = RestTrackingStore(HttpClient(url, retry_seconds=0), spool)
        result = store.log_batch("a" * 32, _batch())
        assert result.spooled
        assert store.sync() == 0  # replaying meets the same answer: kept, in order
    assert len(spool.pending()) == 1
    assert not spool.failed_directory.exists()


def test_transient_statuses_read_as_unavailable() -> None:
    assert isinstance(error_from_problem(502, {"detail": "Bad Gateway"}), Unavailable)
    internal = {"type": "https://plinth.dev/problems/internal", "detail": "boom"}
    assert isinstance(error_from_problem(500, internal), Unavailable)
    assert isinstance(error_from_problem(404, {}), NotFound)


def test_a_spooled_batch_with_conflicting_params_still_delivers_its_points_once(
    tmp_path: Path,
) -> None:
    with threaded_plinth(Settings(data_dir=tmp_path / "server")) as url:
        http = HttpClient(url, retry_seconds=0)
        spool = Spool(tmp_path / "spool")
        store = RestTrackingStore(http, spool)
        run = store.create_run(RunCreate(params={"lr": 0.1}))
        batch = _batch(params={"lr": 0.5, "depth": 3}, points=4)
        request = SpooledRequest(
            "POST", f"/runs/{run.id}/batch", batch.model_dump_json(exclude_none=True).encode()
        )
        spool.append(request)
        assert store.sync() == 1
        spool.append(request)  # as if the process died before the file was removed
        assert store.sync() == 1
        stored = store.get_run(run.id)
        history = store.get_metric_history(run.id, "m")
    assert history.total_points == 4  # not 8: the replay is idempotent
    assert stored.params == {"lr": 0.1}  # the conflicting batch's params were refused
    assert not spool.pending()
    assert not spool.failed_directory.exists()


def test_spool_order_survives_a_clock_stepping_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spool = Spool(tmp_path / "spool")
    clock = iter([5_000, 4_000, 3_000])
    monkeypatch.setattr("plinth.client.spool.time.time_ns", lambda: next(clock))
    for index in range(3):
        spool.append(SpooledRequest("POST", f"/r{index}", orjson.dumps({"i": index})))
    order = [orjson.loads(p.read_bytes().partition(b"\n")[0])["path"] for p in spool.pending()]
    assert order == ["/r0", "/r1", "/r2"]
