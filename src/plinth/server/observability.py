"""Prometheus metrics of one app: requests by route and their latency, ingestion counters.

Each app gets its own registry (nothing global), so tests can build many apps."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.routing import Match

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
        @app.middleware("http")
        async def _measure(
            request: Request, call_next: Callable[[Request], Awaitable[Response]]
        ) -> Response:
            start = time.perf_counter()
            try:
                response = await call_next(request)
            except Exception:  # answer with a problem and keep the connection alive
                logger.exception("unexpected error on %s %s", request.method, request.url.path)
                error = PlinthError("internal error; see the server log")
                response = JSONResponse(
                    error.to_problem(instance=request.url.path),
                    status_code=500,
                    media_type="application/problem+json",
                )
            route = _route_template(app, request)
            self.latency.labels(route, request.method).observe(time.perf_counter() - start)
            self.requests.labels(route, request.method, str(response.status_code)).inc()
            return response


def _route_template(app: FastAPI, request: Request) -> str:
    """The route's path template (``/api/v1/runs/{run_id}``), keeping label cardinality low."""
    route = request.scope.get("route")
    if route is not None and hasattr(route, "path"):
        return str(route.path)
    for candidate in app.router.routes:
        match, _ = candidate.matches(request.scope)
        if match == Match.FULL and hasattr(candidate, "path"):
            return str(candidate.path)
    return "unmatched"
