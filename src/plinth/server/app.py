"""``create_app(settings)``: the server, built from settings with nothing made at import."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI

from plinth import __version__
from plinth.artifacts.backends import open_blob_store
from plinth.config import Settings
from plinth.db.engine import Database
from plinth.db.migrate import upgrade_if_needed
from plinth.registry.webhooks import WebhookDeliverer
from plinth.server.api import (
    artifacts,
    experiments,
    health,
    lineage,
    registry,
    runs,
    uploads,
    webhooks,
)
from plinth.server.deps import ServerState, authorize
from plinth.server.observability import ServerMetrics
from plinth.server.problems import install_problem_handlers
from plinth.server.routing import include_flat

API_PREFIX = "/api/v1"
API_ROUTER_MODULES = (runs, experiments, artifacts, uploads, registry, lineage, webhooks)
"""The API's routers under ``/api/v1``, the busiest first: routes are matched in order."""


def create_app(settings: Settings | None = None, *, migrate: bool = True) -> FastAPI:
    """Build the app: database (migrated), blob store, routers, error handlers, metrics."""
    settings = settings or Settings()
    database = Database(
        settings.resolved_database_url, sqlite_synchronous=settings.sqlite_synchronous
    )
    if migrate:
        upgrade_if_needed(database)
    state = ServerState(
        settings=settings,
        database=database,
        blobs=open_blob_store(settings),
        metrics=ServerMetrics(),
    )

    deliverer = WebhookDeliverer(database)  # registry events to webhooks, in the background

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        deliverer.start()
        yield
        deliverer.stop()
        database.dispose()

    app = FastAPI(
        title="plinth",
        version=__version__,
        description="Experiment tracking, artifacts and models: one platform.",
        lifespan=lifespan,
    )
    app.state.plinth = state
    install_problem_handlers(app)
    state.metrics.install(app)
    authorized = [Depends(authorize)]
    for module in API_ROUTER_MODULES:
        include_flat(app, module.router, prefix=API_PREFIX, dependencies=authorized)
    include_flat(app, health.router, dependencies=authorized)
    from plinth.server.ui import pages

    pages.install(app)
    return app
