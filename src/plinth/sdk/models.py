"""Models in the fluent API: ``log_model``, ``load_model`` and ``evaluate``.

Packaging happens in a temporary folder before anything is uploaded, so a model the scanner
refuses leaves no trace in the run. Without an active run, ``log_model`` and ``evaluate``
record into a run of their own, ended when they return.
"""

from __future__ import annotations

import hashlib
import tempfile
import warnings
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from plinth.artifacts.paths import clean_artifact_path
from plinth.entities.models import EvaluationResult, ModelInfo, ScanStatus, Signature
from plinth.errors import InvalidArgument
from plinth.sdk import fluent, session
from plinth.sdk.datasets import describe_dataset

if TYPE_CHECKING:
    from plinth.registry.loading import LoadedModel, ModelLoader


@contextmanager
def _logging_run(run_id: str | None, name: str) -> Iterator[str]:
    """The run to log to: ``run_id``, else the active run, else a run of its own named
    ``name``, finished when the block ends (failed if it raises)."""
    if run_id is not None or fluent.active_run() is not None:
        yield fluent._active_id(run_id)
        return
    target = fluent.start_run(name=name).id
    try:
        yield target
    except BaseException:
        fluent.end_run("failed", run_id=target)
        raise
    fluent.end_run(run_id=target)


def log_model(
    model: Any,
    name: str = "model",
    *,
    signature: Signature | None = None,
    input_example: Any = None,
    flavor: str | None = None,
    format: str | None = None,
    requirements: Iterable[str] = (),
    artifacts: Mapping[str, str | Path] | None = None,
    options: Mapping[str, Any] | None = None,
    registered_model_name: str | None = None,
    run_id: str | None = None,
) -> ModelInfo:
    """Package ``model`` (its flavor detected unless named) into folder ``name`` of the run.

    The signature is inferred from ``input_example`` when not given. ``format`` picks how
    the flavor stores it (scikit-learn: ``skops`` or ``joblib``; PyTorch: ``torchscript``
    or ``state_dict``). ``registered_model_name`` also registers it as a new version.
    """
    from plinth.registry.packaging import package_model, upload_model_dir

    path = clean_artifact_path(name)
    with tempfile.TemporaryDirectory(prefix="plinth-model-") as folder:
        packaged = package_model(
            model,
            Path(folder) / "model",
            flavor=flavor,
            format=format,
            signature=signature,
            input_example=input_example,
            requirements=requirements,
            artifacts=artifacts,
            options=options,
        )
        if packaged.manifest.scan is ScanStatus.NOT_SCANNED:
            warnings.warn(
                f"{'; '.join(packaged.manifest.scan_findings)}: loading this model will need "
                "trusted=True",
                stacklevel=2,
            )
        with _logging_run(run_id, path.replace("/", "-")) as target:
            store = session.current().platform.artifacts
            upload_model_dir(store, fluent._created_id(target), packaged.directory, path)
    info = ModelInfo(
        model_uri=f"runs:/{target}/{path}",
        run_id=target,
        artifact_path=path,
        digest=packaged.digest,
        manifest=packaged.manifest,
    )
    if registered_model_name is None:
        return info
    from plinth.registry.packaging import register_source

    registry = getattr(session.current().platform, "registry", None)
    version = register_source(registry, registered_model_name, info.model_uri)
    return info.model_copy(
        update={
            "registered_model_name": registered_model_name,
            "registered_version": int(version.version),
        }
    )


def load_model(model_uri: str, *, trusted: bool = False) -> LoadedModel:
    """Load ``runs:/RUN_ID/PATH``, ``models:/NAME/VERSION``, ``models:/NAME@ALIAS`` or a
    local model folder. A model whose files were not scanned clean (joblib, pickles the
    scanner could not read) loads only with ``trusted=True``."""
    from plinth.registry.loading import load_model_dir, local_source

    local = local_source(model_uri)
    if local is not None:  # a folder needs no platform
        return load_model_dir(local.path, trusted=trusted)
    return _loader().load(model_uri, trusted=trusted)


def _loader() -> ModelLoader:
    from plinth.registry.loading import ModelLoader

    current = session.current()
    cache = current.settings.data_dir.expanduser().resolve() / "model-cache"
    registry = getattr(current.platform, "registry", None)
    return ModelLoader(current.platform.artifacts, cache, registry)


def evaluate(
    model: Any,
    data: Any,
    targets: Any,
    model_type: str = "classifier",
    *,
    dataset_name: str = "evaluation",
    prefix: str = "",
    run_id: str | None = None,
    trusted: bool = False,
) -> EvaluationResult:
    """Score ``model`` (a model URI, a ``LoadedModel`` or anything with ``predict``) on
    ``data`` against ``targets`` (a column name of ``data`` or an array) and log the
    metrics, with the data set's digest, to the active run (or a run of its own)."""
    from plinth.registry.evaluate import compute_metrics, predictions, split_targets

    if model_type not in ("classifier", "regressor"):
        raise InvalidArgument.for_field("model_type", "classifier or regressor")
    uri = model if isinstance(model, str) else getattr(model, "uri", None)
    loaded = load_model(model, trusted=trusted) if isinstance(model, str) else model
    features, y_true = split_targets(data, targets)
    y_pred, probabilities = predictions(loaded, features, model_type)
    classes = getattr(getattr(loaded, "raw", loaded), "classes_", None)
    values = compute_metrics(model_type, y_true, y_pred, probabilities, classes)
    dataset = describe_dataset(data, name=dataset_name, context="evaluation")
    digest = dataset.digest
    if not isinstance(targets, str):  # the same features with other labels are other data
        labels = describe_dataset(y_true, name="targets").digest
        digest = hashlib.sha256(f"{dataset.digest}:{labels}".encode()).hexdigest()
        dataset = dataset.model_copy(update={"digest": digest})
    with _logging_run(run_id, f"evaluate-{dataset_name}") as target:
        fluent.log_metrics({prefix + key: value for key, value in values.items()}, run_id=target)
        fluent.log_input(dataset, name=dataset_name, run_id=target)
        tags = {"evaluation.dataset_digest": digest, "evaluation.model_type": model_type}
        fluent.set_tags(tags | ({"evaluation.model_uri": uri} if uri else {}), run_id=target)
    return EvaluationResult(
        run_id=target,
        model_type=model_type,
        metrics={prefix + key: value for key, value in values.items()},
        dataset_name=dataset_name,
        dataset_digest=digest,
        num_rows=len(y_true),
        model_uri=uri,
    )
