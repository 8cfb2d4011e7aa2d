"""The client's own connections: stale keep-alive sockets, proxies, forks, odd paths."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from plinth.client.http import HttpClient
from plinth.errors import Unavailable


class _Recorder(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, close_after_reply: bool) -> None:
        self.close_after_reply = close_after_reply
        self.targets: list[str] = []
        self.connections = 0
        self.closed = threading.Semaphore(0)
        super().__init__(("127.0.0.1", 0), _Handler)

    def shutdown_request(self, request: Any) -> None:
        super().shutdown_request(request)  # the socket is closed now
        self.closed.release()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive unless we close
    server: _Recorder

    def setup(self) -> None:
        super().setup()
        self.server.connections += 1

    def _reply(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        self.server.targets.append(self.path)
        body = json.dumps({"path": self.path}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()
        if self.server.close_after_reply:  # an idle timeout, without "Connection: close"
            self.close_connection = True

    do_GET = do_POST = _reply

    def log_message(self, *args: object) -> None:
        pass


def _serve(close_after_reply: bool = False) -> Iterator[_Recorder]:
    server = _Recorder(close_after_reply)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def keep_alive() -> Iterator[_Recorder]:
    yield from _serve()


@pytest.fixture
def hangs_up() -> Iterator[_Recorder]:
    yield from _serve(close_after_reply=True)


@pytest.fixture
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


def test_calls_share_one_kept_alive_connection(keep_alive: _Recorder, no_proxy: None) -> None:
    client = HttpClient(keep_alive.url, retry_seconds=0)
    for _ in range(5):
        client.post("/runs/x/batch", json={"a": 1})
    assert keep_alive.connections == 1
    assert keep_alive.targets == ["/api/v1/runs/x/batch"] * 5


def test_a_connection_the_server_closed_while_idle_is_replaced_not_retried(
    hangs_up: _Recorder, no_proxy: None
) -> None:
    client = HttpClient(hangs_up.url, retry_seconds=0)  # no retries: a failure would raise
    for _ in range(3):
        assert client.get("/experiments") == {"path": "/api/v1/experiments"}
        assert hangs_up.closed.acquire(timeout=10)  # the server has hung up: now it is idle
    assert hangs_up.connections == 3


def test_paths_and_query_params_are_encoded_like_httpx(
    keep_alive: _Recorder, no_proxy: None
) -> None:
    client = HttpClient(keep_alive.url + "/behind/a/prefix", retry_seconds=0)
    reply = client.get("/models/caf%C3%A9/versions", params={"max_results": 5, "all": True})
    assert reply == {
        "path": "/behind/a/prefix/api/v1/models/caf%C3%A9/versions?max_results=5&all=true"
    }
    reply = client.get("/models/naïve")
    assert reply == {"path": "/behind/a/prefix/api/v1/models/na%C3%AFve"}


def test_a_proxy_from_the_environment_is_honoured(
    keep_alive: _Recorder, no_proxy: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", keep_alive.url)  # the recorder plays the proxy
    client = HttpClient("http://plinth.invalid:5000", retry_seconds=0)
    client.get("/experiments")
    assert keep_alive.targets == ["http://plinth.invalid:5000/api/v1/experiments"]


def test_an_unreachable_server_is_unavailable(no_proxy: None) -> None:
    with _Recorder(close_after_reply=False) as closed:
        url = closed.url  # bound, then closed: nothing listens there
    with pytest.raises(Unavailable, match="cannot reach"):
        HttpClient(url, retry_seconds=0).get("/experiments")


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_opens_its_own_connection(keep_alive: _Recorder, no_proxy: None) -> None:
    client = HttpClient(keep_alive.url, retry_seconds=0)
    client.get("/before")
    child = os.fork()
    if child == 0:  # pragma: no cover (runs in the child)
        ok = False
        try:
            ok = client.get("/child") == {"path": "/api/v1/child"}
        finally:
            os._exit(0 if ok else 1)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert client.get("/after") == {"path": "/api/v1/after"}
    assert keep_alive.targets == ["/api/v1/before", "/api/v1/child", "/api/v1/after"]
    assert keep_alive.connections == 2
