"""Webhook delivery: registry events from the outbox, POSTed as CloudEvents (structured
mode, JSON) with an HMAC-SHA256 signature, retried with exponential backoff.

Each request carries::

    Content-Type: application/cloudevents+json
    X-Plinth-Event: dev.plinth.registry.alias.moved
    X-Plinth-Delivery: <delivery id>
    X-Plinth-Signature: sha256=<hex HMAC-SHA256 of the body, keyed with the webhook's secret>

A 2xx answer delivers; anything else (or no answer) is retried after 1, 2, 4, ... seconds
(``backoff`` doubling, capped at ``max_backoff``) until ``max_attempts``, then the delivery
is ``failed``. Every attempt is kept as the delivery's history. A delivery is claimed
before it is sent, so several server processes never send one twice at once.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading
import time
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson

from plinth import __version__
from plinth.db.engine import Database
from plinth.entities.common import now_ms
from plinth.entities.webhooks import DeliveryAttempt, DeliveryStatus
from plinth.registry import sql_events

logger = logging.getLogger("plinth.webhooks")
SIGNATURE_HEADER = "X-Plinth-Signature"
CLOUDEVENTS_MEDIA_TYPE = "application/cloudevents+json"


def sign(secret: str, body: bytes) -> str:
    """The ``X-Plinth-Signature`` value for ``body``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, signature: str) -> bool:
    """What a receiver checks (in constant time)."""
    return hmac.compare_digest(sign(secret, body), signature)


def cloud_event(row: Any) -> bytes:
    """A stored event as a CloudEvents 1.0 JSON document; the same bytes on every attempt."""
    stamp = datetime.fromtimestamp(row.time / 1000, tz=UTC).isoformat(timespec="milliseconds")
    return orjson.dumps(
        {
            "specversion": "1.0",
            "id": row.event_id,
            "source": f"/plinth/registry/models/{row.model}",
            "type": row.type,
            "subject": row.subject,
            "time": stamp.replace("+00:00", "Z"),
            "datacontenttype": "application/json",
            "data": orjson.Fragment(row.data_json),
        }
    )


class WebhookDeliverer:
    """Sends due deliveries; ``start`` runs it in a daemon thread until ``stop``."""

    def __init__(
        self,
        database: Database,
        *,
        interval: float = 0.5,
        max_attempts: int = 8,
        backoff: float = 1.0,
        max_backoff: float = 600.0,
        timeout: float = 10.0,
        batch: int = 20,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.database = database
        self.interval = interval
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.timeout = timeout
        self.batch = batch
        self._transport = transport
        self._client: httpx.Client | None = None  # made on first use: an app built only
        self._stop = threading.Event()  # for its OpenAPI document never opens one
        self._thread: threading.Thread | None = None

    def deliver_due(self) -> int:
        """One pass: send every delivery that is due (up to ``batch``); how many were sent."""
        now = now_ms()
        with self.database.read() as conn:
            due = sql_events.due_deliveries(conn, now, self.batch)
        sent = 0
        for row in due:
            # Each claim's own lease: sends before it in this pass may have taken a while.
            lease = now_ms() + int((self.timeout + 30) * 1000)
            with self.database.write() as conn:
                if not sql_events.claim(conn, row.id, row.next_attempt_at, lease):
                    continue  # another process took it
            self._attempt(row)
            sent += 1
        return sent

    def _http(self) -> httpx.Client:
        if self._client is None:
            self._client = httpx.Client(
                timeout=self.timeout,
                transport=self._transport,
                headers={"User-Agent": f"plinth-webhooks/{__version__}"},
                follow_redirects=False,
            )
        return self._client

    def _attempt(self, row: Any) -> None:
        body = cloud_event(row)
        headers = {
            "Content-Type": CLOUDEVENTS_MEDIA_TYPE,
            "X-Plinth-Event": row.type,
            "X-Plinth-Delivery": row.id,
            SIGNATURE_HEADER: sign(row.secret, body),
        }
        started = time.perf_counter()
        at = now_ms()
        status_code: int | None = None
        error: str | None = None
        try:
            response = self._http().post(row.url, content=body, headers=headers)
            status_code = response.status_code
            if not 200 <= status_code < 300:
                error = f"HTTP {status_code}: {response.text[:200]}"
        except (httpx.HTTPError, httpx.InvalidURL) as exc:  # InvalidURL is no HTTPError
            error = f"{type(exc).__name__}: {exc}"[:500]
        attempt = DeliveryAttempt(
            at=at,
            status_code=status_code,
            error=error,
            duration_ms=int((time.perf_counter() - started) * 1000),
        )
        number = row.attempt_count + 1
        if error is None:
            status, next_at = DeliveryStatus.DELIVERED, None
        elif number >= self.max_attempts:
            status, next_at = DeliveryStatus.FAILED, None
            logger.warning("webhook delivery %s failed for good: %s", row.id, error)
        else:
            delay = min(self.max_backoff, self.backoff * 2 ** (number - 1))
            status, next_at = DeliveryStatus.PENDING, now_ms() + int(delay * 1000)
        with self.database.write() as conn:
            sql_events.finish(conn, row.id, attempt, number, status, next_at)

    # the background loop ----------------------------------------------------------------

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._loop, name="plinth-webhooks", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        if self._client is not None:
            self._client.close()
            self._client = None

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                busy = self.deliver_due() > 0
            except Exception:  # the loop outlives a database hiccup; the next pass retries
                logger.exception("webhook delivery pass failed")
                busy = False
            if not busy:
                self._stop.wait(self.interval)
