"""Prometheus metrics of one app: requests by route and their latency, ingestion counters.

Each app gets its own registry (nothing global), so tests can build many apps. The
middleware is plain ASGI (Starlette's BaseHTTPMiddleware costs a task per request) and is
also the last line of defence: an unexpected exception becomes a 500 problem, logged,
with the connection kept alive.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import orjson
from fastapi import FastAPI
from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from plinth.errors import PlinthError

logger = logging.getLogger("plinth.server")


class ServerMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "plinth_http_requests_total",
            "HTTP requests by route template, method and status.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "plinth_http_request_duration_seconds",
            "HTTP request latency by route template and method.",
            ["route", "method"],
            registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )
        self.points = Counter(
            "plinth_metric_points_ingested_total",
            "Metric points stored.",
            registry=self.registry,
        )
        self.batches = Counter(
            "plinth_metric_batches_total",
            "Run batches received, by outcome (applied, duplicate).",
            ["outcome"],
            registry=self.registry,
        )

    def install(self, app: FastAPI) -> None:
        app.add_middleware(MeasuringMiddleware, metrics=self)


class MeasuringMiddleware:
    def __init__(self, app: ASGIApp, metrics: ServerMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = {"code": 500, "started": False}

        async def send_and_watch(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                status["started"] = True
            await send(message)

        try:
            await self.app(scope, receive, send_and_watch)
        except Exception:
            logger.exception("unexpected error on %s %s", scope["method"], scope["path"])
            if not status["started"]:
                await _send_internal_error(scope, send)
            status["code"] = 500
        route = _route_template(scope)
        self.metrics.latency.labels(route, scope["method"]).observe(time.perf_counter() - start)
        self.metrics.requests.labels(route, scope["method"], str(status["code"])).inc()


async def _send_internal_error(scope: Scope, send: Send) -> None:
    body = orjson.dumps(PlinthError("internal error; see the server log").to_problem(scope["path"]))
    headers: list[Any] = [
        (b"content-type", b"application/problem+json"),
        (b"content-length", str(len(body)).encode()),
    ]
    await send({"type": "http.response.start", "status": 500, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _route_template(scope: Scope) -> str:
    """The route's path template (``/api/v1/runs/{run_id}``), keeping label cardinality low.

    FastAPI keeps the prefixed template of routes from included routers in its
    ``effective_route_context``; plain routes carry it on ``scope["route"]``."""
    context = (scope.get("fastapi") or {}).get("effective_route_context")
    path = getattr(context, "path_format", None) or getattr(scope.get("route"), "path", None)
    return str(path) if path is not None else "unmatched"
