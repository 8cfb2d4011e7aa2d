"""Mount the web UI on the app: the vendored static assets and every page's router.

The UI is server-rendered (Jinja2) with htmx for partial updates and uPlot for charts,
all shipped inside the package, so installing plinth is the whole build step."""

from __future__ import annotations

from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles

from plinth.server.deps import authorize
from plinth.server.routing import include_flat
from plinth.server.ui import (
    artifacts,
    compare,
    experiments,
    model_version,
    models,
    promotion,
    run_detail,
    runs,
)
from plinth.server.ui.templating import STATIC_DIR

ROUTERS = (
    experiments.router,
    runs.router,
    run_detail.router,
    artifacts.router,
    compare.router,
    models.router,
    model_version.router,
    promotion.router,
)


def install(app: FastAPI) -> None:
    """Add the UI's routes (behind the one authorization dependency) and ``/static``."""
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    for router in ROUTERS:
        include_flat(app, router, dependencies=[Depends(authorize)])
