"""Runs with a logged model (a ``plinth-model.yaml`` in their artifacts), for registry tests.

The manifest is written directly, as ``plinth.log_model`` would leave it, so these tests
need no ML library."""

from __future__ import annotations

import io

import yaml

from plinth.connect import Platform
from plinth.entities.common import now_ms
from plinth.entities.models import MANIFEST_FILE, ColumnSpec, ModelManifest, ScanStatus, Signature
from plinth.entities.tracking import DatasetInput

SIGNATURE = Signature(
    inputs=[ColumnSpec(name="x", type="float64"), ColumnSpec(name="y", type="float64")],
    outputs=[ColumnSpec(type="int64", shape=[-1])],
)


def log_model_manifest(
    platform: Platform,
    run_id: str,
    path: str = "model",
    *,
    signature: Signature | None = SIGNATURE,
    scan: ScanStatus = ScanStatus.CLEAN,
) -> str:
    """Put a manifest at ``runs:/RUN_ID/PATH`` and return that URI."""
    manifest = ModelManifest(
        flavor="sklearn",
        format="skops",
        model_file="model.skops",
        python_version="3.11.0",
        signature=signature,
        scan=scan,
        created_at=now_ms(),
        plinth_version="0.1.0",
    )
    content = yaml.safe_dump(manifest.model_dump(mode="json")).encode()
    platform.artifacts.upload(run_id, f"{path}/{MANIFEST_FILE}", io.BytesIO(content))
    return f"runs:/{run_id}/{path}"


def trained(
    platform: Platform,
    metrics: dict[str, float] | None = None,
    *,
    evaluated_on: str | None = "eval-1",
    signature: Signature | None = SIGNATURE,
    scan: ScanStatus = ScanStatus.CLEAN,
    project: str = "default",
) -> str:
    """A finished run that read a training set (and an evaluation set), logged ``metrics``
    and a model; returns the model's ``runs:/`` URI."""
    tracking = platform.tracking
    run = tracking.create_run(name="train", project=project)
    if metrics:
        tracking.log_metrics(run.id, metrics)
    inputs = [DatasetInput(name="train-set", digest="train-1", context="training")]
    if evaluated_on:
        inputs.append(DatasetInput(name="eval-set", digest=evaluated_on, context="evaluation"))
    tracking.log_inputs(run.id, inputs)
    return log_model_manifest(platform, run.id, signature=signature, scan=scan)
