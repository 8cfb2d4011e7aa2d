"""Web UI pages (the shell is filled in by later commits)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import HTMLResponse


def install(app: FastAPI) -> None:
    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def index() -> str:
        return "<!doctype html><title>plinth</title><h1>plinth</h1>"
