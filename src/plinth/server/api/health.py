"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from plinth.errors import Unavailable
from plinth.server.deps import StateDep

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz")
def readyz(state: StateDep) -> dict[str, str]:
    """The database answers; 503 otherwise."""
    try:
        with state.database.read() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        raise Unavailable(f"database unreachable: {type(exc).__name__}") from exc
    return {"status": "ready"}


@router.get("/metrics")
def metrics(state: StateDep) -> Response:
    return Response(generate_latest(state.metrics.registry), media_type=CONTENT_TYPE_LATEST)
