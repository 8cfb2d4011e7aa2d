"""``plinth db``: schema migrations by hand."""

from __future__ import annotations

import typer

from plinth.cli.context import console, state

app = typer.Typer(help="Database schema.", no_args_is_help=True)


@app.command()
def upgrade(ctx: typer.Context) -> None:
    """Migrate the database to the newest schema."""
    from plinth.db.engine import Database
    from plinth.db.migrate import current_revision, upgrade

    settings = state(ctx).settings
    database = Database(settings.resolved_database_url)
    before = current_revision(database)
    upgrade(database)
    console.print(f"database at revision {current_revision(database)} (was {before or 'empty'})")


@app.command()
def current(ctx: typer.Context) -> None:
    """Print the database's schema revision."""
    from plinth.db.engine import Database
    from plinth.db.migrate import current_revision, head_revision

    database = Database(state(ctx).settings.resolved_database_url)
    console.print(f"current: {current_revision(database) or 'empty'}  head: {head_revision()}")
