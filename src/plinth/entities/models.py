"""Packaged models: the manifest (``plinth-model.yaml``) every logged model carries, and its
signature. Written by ``registry.packaging``, read by the registry and ``load_model``."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field, JsonValue

from plinth.entities.common import Entity

MANIFEST_FILE = "plinth-model.yaml"
"""The manifest's file name inside a model directory."""


class ScanStatus(StrEnum):
    """What the pickle scanner said about a model's files."""

    CLEAN = "clean"
    """Every file that could run code when loaded was scanned and nothing unsafe was found."""
    UNSAFE = "unsafe"
    """A file would run code on load (refused on upload; kept here for reports)."""
    NOT_SCANNED = "not-scanned"
    """Written before scanning existed, or by a format the scanner does not read."""
    NOT_NEEDED = "not-needed"
    """No file can run code when loaded (ONNX, XGBoost JSON, skops, ...)."""


class ColumnSpec(Entity):
    """One input or output of a model: a named column (tabular) or an unnamed tensor."""

    name: str | None = None
    type: str = Field(description="numpy dtype name: float64, int64, bool, str, ...")
    shape: list[int] | None = Field(
        default=None, description="Tensor shape, -1 for any size; None for a table column."
    )
    optional: bool = False


class Signature(Entity):
    """What a model takes and returns. Tabular signatures name their columns."""

    inputs: list[ColumnSpec]
    outputs: list[ColumnSpec] = Field(default_factory=list)


class ModelFile(Entity):
    sha256: str
    size: int


class ModelManifest(Entity):
    """The content of ``plinth-model.yaml``."""

    flavor: str = Field(description="sklearn, xgboost, onnx, pytorch, python, mlflow")
    format: str = Field(description="How the model is stored: skops, joblib, json, onnx, ...")
    model_file: str = Field(description="Path of the main model file inside the directory.")
    python_version: str
    requirements: list[str] = Field(
        default_factory=list, description="Pinned requirements of the packages the model needs."
    )
    signature: Signature | None = None
    input_example_file: str | None = None
    files: dict[str, ModelFile] = Field(default_factory=dict)
    scan: ScanStatus = ScanStatus.NOT_SCANNED
    scan_findings: list[str] = Field(default_factory=list)
    flavor_options: dict[str, JsonValue] = Field(default_factory=dict)
    created_at: int
    plinth_version: str


class ModelInfo(Entity):
    """What ``log_model`` logged: where the model is, what it is, and its registered version
    when it was registered."""

    model_uri: str = Field(description="runs:/RUN_ID/PATH")
    run_id: str
    artifact_path: str
    digest: str = Field(description="sha256 of the manifest: the model's identity.")
    manifest: ModelManifest
    registered_model_name: str | None = None
    registered_version: int | None = None

    @property
    def flavor(self) -> str:
        return self.manifest.flavor

    @property
    def signature(self) -> Signature | None:
        return self.manifest.signature


class EvaluationResult(Entity):
    """Metrics of a model on a data set, and which data set (by digest), so that gates
    compare like with like."""

    run_id: str
    model_type: str
    metrics: dict[str, float]
    dataset_name: str
    dataset_digest: str
    num_rows: int
    model_uri: str | None = None
