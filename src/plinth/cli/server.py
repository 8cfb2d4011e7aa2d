"""``plinth server``: run the API and UI with uvicorn."""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import Annotated

import typer

from plinth.cli.context import errors, state


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to bind.", min=0, max=65535)] = 5000,
    workers: Annotated[int, typer.Option(help="Worker processes.", min=1)] = 1,
    data_dir: Annotated[
        Path | None, typer.Option(help="Data dir (database and artifacts).")
    ] = None,
    database_url: Annotated[str | None, typer.Option(help="SQLAlchemy database URL.")] = None,
    artifacts_url: Annotated[str | None, typer.Option(help="fsspec URL for artifacts.")] = None,
    insecure: Annotated[
        bool, typer.Option(help="Allow a non-loopback bind without authentication.")
    ] = False,
    access_log: Annotated[bool, typer.Option(help="Log every request.")] = False,
) -> None:
    """Start the plinth server (migrates the database first)."""
    import uvicorn

    from plinth.db.engine import Database
    from plinth.db.migrate import upgrade_if_needed

    if not is_loopback(host) and not insecure:
        errors.print(
            f"[bold red]refusing to start:[/] binding {host} exposes plinth beyond this machine "
            "and authentication is not configured. Bind 127.0.0.1, or pass --insecure if the "
            "network is trusted."
        )
        raise typer.Exit(code=2)
    overrides = dict(state(ctx).overrides)
    overrides.pop("url", None)
    for key, value in (
        ("data_dir", data_dir),
        ("database_url", database_url),
        ("artifacts_url", artifacts_url),
    ):
        if value is not None:
            overrides[key] = value
    for key, value in overrides.items():  # worker processes read their settings from here
        os.environ[f"PLINTH_{key.upper()}"] = str(value)
    os.environ.pop("PLINTH_URL", None)
    settings = state(ctx).settings.model_copy(update=overrides)
    upgrade_if_needed(Database(settings.resolved_database_url))
    typer.echo(f"plinth server on http://{host}:{port}  (data: {settings.data_dir})", err=True)
    uvicorn.run(
        "plinth.server.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=settings.log_level,
        access_log=access_log,
        timeout_graceful_shutdown=5,
    )
