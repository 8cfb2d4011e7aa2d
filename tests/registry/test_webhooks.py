"""Webhooks: registry events delivered as signed CloudEvents to a real HTTP receiver on
loopback, retried with backoff, with their history kept."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import update

from plinth.config import Settings
from plinth.connect import Platform, connect
from plinth.db.tables.registry import webhooks
from plinth.entities.webhooks import EventType
from plinth.errors import InvalidArgument
from plinth.registry.sql import SqlRegistryStore
from plinth.registry.webhooks import SIGNATURE_HEADER, WebhookDeliverer, verify
from tests.registry.logged_models import trained
from tests.servers import free_port, threaded_plinth

SECRET = "s3cret-s3cret-s3cret"


class Receiver:
    """A tiny threaded HTTP server that records what it is sent and answers 500 to the
    first ``failures`` requests."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.received: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                failing = receiver.failures > 0
                if failing:
                    receiver.failures -= 1
                else:
                    receiver.received.append((dict(self.headers.items()), body))
                self.send_response(500 if failing else 204)
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def __enter__(self) -> Receiver:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def events(self) -> list[dict[str, Any]]:
        return [orjson.loads(body) for _, body in self.received]


@pytest.fixture
def local(database_url: str, tmp_path: Path) -> Iterator[Platform]:
    platform = connect(Settings(data_dir=tmp_path / "data", database_url=database_url))
    yield platform
    platform.close()


def deliverer(platform: Platform, **options: Any) -> WebhookDeliverer:
    store = platform.registry.store
    assert isinstance(store, SqlRegistryStore)
    options.setdefault("backoff", 0.02)
    return WebhookDeliverer(store.database, timeout=2, **options)


def until(condition: Callable[[], bool], pump: Callable[[], object], seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        pump()
        time.sleep(0.02)


def test_events_are_signed_cloudevents(local: Platform) -> None:
    registry = local.registry
    with Receiver() as receiver:
        hook = registry.add_webhook(receiver.url, secret=SECRET)
        assert hook.secret == SECRET
        assert registry.store.get_webhook(hook.id).secret is None  # shown once
        registry.register_model(trained(local, {"accuracy": 0.9}), "iris")
        registry.promote("iris", 1, "champion", reason="first")
        registry.set_gates("iris", ["accuracy >= 0.99"])
        registry.register_model(trained(local, {"accuracy": 0.95}), "iris")
        request = registry.promote("iris", 2, "champion").request
        assert request is not None
        registry.add_approver("iris", "local", "lead")
        registry.reject(request.id, "no")
        sender = deliverer(local)
        until(lambda: len(receiver.received) == 5, sender.deliver_due)
        sender.stop()
    assert sorted(e["type"] for e in receiver.events()) == sorted(
        [
            EventType.VERSION_CREATED,
            EventType.ALIAS_MOVED,
            EventType.VERSION_CREATED,
            EventType.PROMOTION_REQUESTED,
            EventType.PROMOTION_DECIDED,
        ]
    )
    for headers, body in receiver.received:
        assert verify(SECRET, body, headers[SIGNATURE_HEADER])
        assert not verify("another-secret-entirely", body, headers[SIGNATURE_HEADER])
        assert headers["Content-Type"] == "application/cloudevents+json"
        assert headers["X-Plinth-Event"] == orjson.loads(body)["type"]
    created = next(e for e in receiver.events() if e["subject"] == "models:/iris/1")
    assert created["specversion"] == "1.0"
    assert created["subject"] == "models:/iris/1"
    assert created["source"] == "/plinth/registry/models/iris"
    assert created["datacontenttype"] == "application/json"
    assert created["time"].endswith("Z")
    assert created["data"]["metrics"] == {"accuracy": 0.9}
    moved = next(e for e in receiver.events() if e["type"] == EventType.ALIAS_MOVED)
    assert (moved["subject"], moved["data"]["to_version"], moved["data"]["reason"]) == (
        "models:/iris@champion",
        1,
        "first",
    )
    deliveries = registry.store.list_deliveries(hook.id)
    assert len(deliveries) == 5
    assert {d.status for d in deliveries} == {"delivered"}
    assert all(d.attempts[0].status_code == 204 for d in deliveries)


def test_a_failing_receiver_is_retried_until_it_answers(local: Platform) -> None:
    registry = local.registry
    with Receiver(failures=2) as receiver:
        hook = registry.add_webhook(receiver.url, secret=SECRET)
        registry.register_model(trained(local), "iris")
        sender = deliverer(local)
        until(lambda: len(receiver.received) == 1, sender.deliver_due)
        sender.stop()
    [delivery] = registry.store.list_deliveries(hook.id)
    assert delivery.status == "delivered"
    assert [a.status_code for a in delivery.attempts] == [500, 500, 204]
    assert delivery.attempts[0].error is not None
    assert delivery.delivered_at is not None
    headers, body = receiver.received[0]
    assert verify(SECRET, body, headers[SIGNATURE_HEADER])


def test_deliveries_give_up_after_their_attempts(local: Platform) -> None:
    registry = local.registry
    dead = registry.add_webhook(f"http://127.0.0.1:{free_port()}/gone")
    with Receiver(failures=100) as receiver:
        failing = registry.add_webhook(receiver.url)
        registry.register_model(trained(local), "iris")
        sender = deliverer(local, max_attempts=3)
        statuses: Callable[[], set[str]] = lambda: {  # noqa: E731
            d.status for h in (dead, failing) for d in registry.store.list_deliveries(h.id)
        }
        until(lambda: statuses() == {"failed"}, sender.deliver_due)
        sender.stop()
    [unreachable] = registry.store.list_deliveries(dead.id)
    assert len(unreachable.attempts) == 3
    assert unreachable.attempts[0].status_code is None
    assert "Connect" in (unreachable.attempts[0].error or "")
    assert [a.status_code for a in registry.store.list_deliveries(failing.id)[0].attempts] == [
        500,
        500,
        500,
    ]


def test_malformed_urls_are_refused_and_a_stored_one_fails_its_deliveries(
    local: Platform,
) -> None:
    registry = local.registry
    for bad in ("http://[::1", "http://x:99999/hook", "http://x:0/", "http:///path-only"):
        with pytest.raises(InvalidArgument):
            registry.add_webhook(bad)
    hook = registry.add_webhook("http://example.invalid/hook")
    store = registry.store
    assert isinstance(store, SqlRegistryStore)
    with store.database.write() as conn:  # as if stored before the URL check existed
        conn.execute(update(webhooks).where(webhooks.c.id == hook.id).values(url="http://[::1"))
    registry.register_model(trained(local), "iris")
    sender = deliverer(local, max_attempts=2)
    until(lambda: registry.store.list_deliveries(hook.id)[0].status == "failed", sender.deliver_due)
    sender.stop()
    attempts = registry.store.list_deliveries(hook.id)[0].attempts
    assert len(attempts) == 2
    assert "InvalidURL" in (attempts[0].error or "")


def test_filters_deletion_and_no_double_sending(local: Platform) -> None:
    registry = local.registry
    with Receiver() as receiver:
        wanted = registry.add_webhook(
            receiver.url, events=[EventType.ALIAS_MOVED], model="iris", secret=SECRET
        )
        removed = registry.add_webhook(receiver.url)
        registry.register_model(trained(local), "iris")
        registry.register_model(trained(local), "wine")
        registry.promote("wine", 1, "champion")
        registry.store.delete_webhook(removed.id)
        registry.promote("iris", 1, "champion")
        senders = [deliverer(local), deliverer(local)]
        barrier = threading.Barrier(2)

        def pump(sender: WebhookDeliverer) -> None:
            barrier.wait()
            sender.deliver_due()

        threads = [threading.Thread(target=pump, args=(s,)) for s in senders]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        for sender in senders:
            sender.stop()
    assert [(e["type"], e["subject"]) for e in receiver.events()] == [
        (EventType.ALIAS_MOVED, "models:/iris@champion")
    ]
    assert [w.id for w in registry.store.list_webhooks()] == [wanted.id]
    dropped = registry.store.list_deliveries(removed.id)
    assert {d.status for d in dropped} == {"failed"}
    assert all(d.attempts == [] for d in dropped)


def test_the_server_delivers_in_the_background(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "server", system_metrics=False)
    with Receiver(failures=1) as receiver, threaded_plinth(settings) as url:
        remote = connect(Settings(data_dir=tmp_path / "client", url=url))
        hook = remote.registry.add_webhook(receiver.url, secret=SECRET)
        remote.registry.register_model(trained(remote), "iris")
        until(lambda: len(receiver.received) == 1, lambda: None, seconds=15)
        [delivery] = remote.registry.store.list_deliveries(hook.id)
        remote.close()
    assert [a.status_code for a in delivery.attempts] == [500, 204]
    assert delivery.status == "delivered"
    headers, body = receiver.received[0]
    assert verify(SECRET, body, headers[SIGNATURE_HEADER])
