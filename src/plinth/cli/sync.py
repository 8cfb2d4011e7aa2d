"""``plinth sync``: upload what the client spooled while the server was unreachable."""

from __future__ import annotations

import typer
from rich.progress import Progress

from plinth.cli.context import console, errors, state
from plinth.client.spool import Spool


def sync(ctx: typer.Context) -> None:
    """Send spooled runs and metric batches to the server, in order, with progress."""
    settings = state(ctx).settings
    if not settings.url:
        errors.print("[red]error:[/] set PLINTH_URL (or --url): there is no server to sync to")
        raise typer.Exit(code=2)
    spool = Spool(settings.spool_dir)
    pending = len(spool)
    if pending == 0:
        console.print("nothing to sync")
        return
    store = state(ctx).platform.tracking.store
    sent = 0
    with Progress(console=console) as progress:
        task = progress.add_task("syncing", total=pending)

        def send_one(request: object) -> None:
            nonlocal sent
            store._send_spooled(request)  # type: ignore[attr-defined]
            sent += 1
            progress.advance(task)

        spool.replay(send_one)
    left = len(spool)
    console.print(
        f"synced {sent} request(s); {left} still waiting" if left else f"synced {sent} request(s)"
    )
    if left:
        raise typer.Exit(code=1)
