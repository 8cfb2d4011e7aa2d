"""``plinth artifacts``: a run's files (ls, get, put) and storage upkeep (gc)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from plinth.artifacts.gc import DEFAULT_GRACE_SECONDS
from plinth.artifacts.local_files import destination, files_to_upload, save
from plinth.artifacts.store import RunArtifactStore
from plinth.cli.context import console, errors, fail, state
from plinth.client.artifacts import RestRunArtifactStore
from plinth.entities.artifacts import ArtifactInfo
from plinth.errors import InvalidArgument, PlinthError

app = typer.Typer(help="Artifacts: files of runs, and storage upkeep.", no_args_is_help=True)


def _size(size: int | None) -> str:
    if size is None:
        return "-"
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:,} {unit}" if unit == "B" else f"{size:,.1f} {unit}"
        size //= 1024
    return str(size)


@app.command("ls")
def ls(
    ctx: typer.Context,
    run_id: str,
    path: Annotated[str, typer.Argument(help="Folder (or file) of the run.")] = "",
) -> None:
    """Files and folders of a run, with sizes, digests and scan results."""
    try:
        items = state(ctx).platform.artifacts.list(run_id, path)
    except PlinthError as exc:
        fail(exc)
    table = Table(title=f"Artifacts of {run_id}" + (f" under {path}" if path else ""))
    for column in ("path", "size", "sha256", "scan"):
        table.add_column(column)
    for item in items:
        name = item.path + ("/" if item.is_dir else "")
        scan = item.scan_status.value if item.scan_status else "-"
        table.add_row(name, _size(item.size), (item.digest or "-")[:12], scan)
    console.print(table)


def _files_under(store: RunArtifactStore, run_id: str, path: str) -> list[ArtifactInfo]:
    found: list[ArtifactInfo] = []
    for item in store.list(run_id, path):
        found += _files_under(store, run_id, item.path) if item.is_dir else [item]
    return found


@app.command()
def get(
    ctx: typer.Context,
    run_id: str,
    path: Annotated[str, typer.Argument(help="File or folder of the run.")],
    dest: Annotated[Path, typer.Argument(help="Local folder to write into.")] = Path("."),
) -> None:
    """Download a file or a folder of a run into DEST (each file written atomically)."""
    store = state(ctx).platform.artifacts
    try:
        files = _files_under(store, run_id, path)
        if not files:
            errors.print(f"[bold red]error:[/] run {run_id} has no artifact {path!r}")
            raise typer.Exit(code=2)
        wanted = path.strip("/")
        parent = wanted.rsplit("/", 1)[0] if "/" in wanted else ""
        for item in files:  # a folder lands as DEST/<folder>/..., a file as DEST/<file>
            target = destination(dest, item.path[len(parent) :].lstrip("/"))
            save(store.download(run_id, item.path), target)
            console.print(f"{item.path} -> {target}")
    except PlinthError as exc:
        fail(exc)


@app.command()
def put(
    ctx: typer.Context,
    run_id: str,
    local: Annotated[Path, typer.Argument(help="Local file or folder.", exists=True)],
    path: Annotated[str, typer.Argument(help="Where in the run (default: its name).")] = "",
    direct: Annotated[
        bool,
        typer.Option(help="Send the bytes straight to the server's object storage (S3)."),
    ] = False,
) -> None:
    """Upload a file (or every file of a folder) to a run."""
    store = state(ctx).platform.artifacts
    upload = store.upload
    if direct:
        if not isinstance(store, RestRunArtifactStore):
            fail(InvalidArgument.for_field("direct", "direct uploads go through a server (--url)"))
        upload = store.upload_direct
    try:
        pairs = files_to_upload(local, path) if local.is_dir() else [(local, path or local.name)]
        for file, artifact_path in pairs:
            with open(file, "rb") as source:
                info = upload(run_id, artifact_path, source)
            console.print(f"{file} -> {info.path} ({_size(info.size)}, sha256 {info.digest})")
    except PlinthError as exc:
        fail(exc)


@app.command()
def gc(
    ctx: typer.Context,
    dry_run: Annotated[bool, typer.Option(help="Report what would go, remove nothing.")] = False,
    grace_seconds: Annotated[
        int, typer.Option(min=0, help="Keep unreferenced blobs younger than this.")
    ] = DEFAULT_GRACE_SECONDS,
) -> None:
    """Remove stored blobs that nothing references (and abandoned uploads). Runs on the
    storage itself: where the server's database and artifacts are, not through --url."""
    from plinth.artifacts.backends import open_blob_store
    from plinth.artifacts.gc import collect_garbage
    from plinth.db.engine import Database
    from plinth.db.migrate import upgrade_if_needed

    settings = state(ctx).settings
    if settings.url:
        errors.print(
            "[bold red]error:[/] gc works on the database and artifact storage directly; run"
            " it where PLINTH_DATABASE_URL and PLINTH_ARTIFACTS_URL reach them, without --url"
        )
        raise typer.Exit(code=2)
    database = Database(settings.resolved_database_url)
    upgrade_if_needed(database)
    columns = (
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,} blobs"),
        TimeElapsedColumn(),
    )
    try:
        with Progress(*columns, console=console, transient=True) as progress:
            task = progress.add_task("collecting garbage", total=None)
            report = collect_garbage(
                database,
                open_blob_store(settings),
                grace_seconds=grace_seconds,
                dry_run=dry_run,
                progress=lambda seen: progress.update(task, completed=seen),
            )
    except PlinthError as exc:
        fail(exc)
    finally:
        database.dispose()
    verb = "would remove" if dry_run else "removed"
    console.print(
        f"{report.blobs_seen:,} blobs: {verb} {report.blobs_removed:,}"
        f" ({_size(report.bytes_removed)}); kept {report.kept_referenced:,} referenced and"
        f" {report.kept_recent:,} younger than {grace_seconds:,} s"
    )
    if not dry_run and (report.uploads_expired or report.temporary_removed):
        console.print(
            f"expired {report.uploads_expired:,} abandoned uploads,"
            f" removed {report.temporary_removed:,} leftover temporary files"
        )
