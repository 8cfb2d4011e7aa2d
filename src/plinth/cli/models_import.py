"""``plinth models import-mlflow PATH --name NAME``: an MLflow model directory becomes a new
version of a registered model. The files are logged to a run of their own (experiment
``mlflow-imports`` unless told otherwise), then that run's model is registered. Mounted on
the ``plinth models`` group: ``app.command("import-mlflow")(models_import.import_mlflow)``."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

import typer

from plinth.cli.context import console, fail, state
from plinth.entities.common import now_ms
from plinth.entities.tracking import RunStatus
from plinth.errors import PlinthError


def import_mlflow(
    ctx: typer.Context,
    path: Annotated[
        Path,
        typer.Argument(help="MLflow model folder (holds an MLmodel file).", file_okay=False),
    ],
    name: Annotated[str, typer.Option("--name", "-n", help="Registered model to add it to.")],
    experiment: Annotated[
        str, typer.Option("--experiment", "-e", help="Experiment of the import run.")
    ] = "mlflow-imports",
    project: Annotated[str, typer.Option(help="Project of the experiment.")] = "default",
) -> None:
    """Import an MLflow model directory (MLmodel) as a new version of a registered model."""
    from plinth.registry.mlflow_import import import_mlflow_model
    from plinth.registry.packaging import register_source, upload_model_dir

    platform = state(ctx).platform
    try:
        with tempfile.TemporaryDirectory(prefix="plinth-import-") as folder:
            packaged = import_mlflow_model(path, Path(folder) / "model")
            tracking = platform.tracking
            experiment_id = tracking.get_or_create_experiment(experiment, project).id
            run = tracking.create_run(
                experiment_id=experiment_id,
                project=project,
                name=f"import-{name}",
                start_time=now_ms(),
                tags={"plinth.imported_from": "mlflow", "mlflow.model_path": str(path.resolve())},
            )
            try:
                upload_model_dir(platform.artifacts, run.id, packaged.directory, "model")
            except BaseException:
                tracking.end_run(run.id, RunStatus.FAILED)
                raise
            tracking.end_run(run.id)
        source = f"runs:/{run.id}/model"
        version = register_source(getattr(platform, "registry", None), name, source)
    except PlinthError as exc:
        fail(exc)
    manifest = packaged.manifest
    console.print(
        f"imported {path} as models:/{name}/{version.version} "
        f"({manifest.flavor}/{manifest.format}, scan: {manifest.scan.value}, from {source})"
    )
    if manifest.scan_findings:
        console.print("scanner: " + "; ".join(manifest.scan_findings))
