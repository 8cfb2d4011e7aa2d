"""``log_model`` writes a complete model directory: manifest, signature, example,
requirements and digests, uploaded to the run (locally and through a server)."""

from __future__ import annotations

import hashlib
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pytest
import yaml

import plinth
from plinth.entities.models import MANIFEST_FILE, ScanStatus
from plinth.registry.examples import read_input_example
from plinth.registry.manifest import read_manifest
from plinth.registry.packaging import package_model, pin_requirements
from plinth.sdk import session
from tests.registry.model_samples import forest, iris, logistic


def test_the_manifest_describes_the_directory(tmp_path: Path) -> None:
    frame, _ = iris()
    packaged = package_model(
        forest(), tmp_path / "m", input_example=frame.head(3), requirements=["scipy>=1.10"]
    )
    raw = (tmp_path / "m" / MANIFEST_FILE).read_bytes()
    assert packaged.digest == hashlib.sha256(raw).hexdigest()
    document = yaml.safe_load(raw)
    assert document["flavor"] == "sklearn"
    assert document["format"] == "skops"
    assert document["model_file"] == "model.skops"
    assert document["python_version"].count(".") == 2
    manifest = read_manifest(raw)
    assert f"scikit-learn=={version('scikit-learn')}" in manifest.requirements
    assert f"skops=={version('skops')}" in manifest.requirements
    assert f"pandas=={version('pandas')}" in manifest.requirements
    assert manifest.requirements[-1] == "scipy>=1.10"
    assert (tmp_path / "m" / "requirements.txt").read_text().splitlines() == manifest.requirements
    assert set(manifest.files) == {"model.skops", "input_example.json", "requirements.txt"}
    for name, entry in manifest.files.items():
        content = (tmp_path / "m" / name).read_bytes()
        assert (entry.sha256, entry.size) == (hashlib.sha256(content).hexdigest(), len(content))
    assert manifest.signature is not None
    assert [c.name for c in manifest.signature.inputs] == list(frame.columns)
    assert manifest.signature.outputs[0].type == "int64"  # inferred by predicting the example
    example = read_input_example(tmp_path / "m" / "input_example.json")
    assert example.equals(frame.head(3))


def test_examples_keep_their_kind(tmp_path: Path) -> None:
    for name, example in {
        "array": np.arange(6, dtype=np.int32).reshape(2, 3),
        "dict": {"a": [1.0, 2.0], "b": ["x", "y"]},
        "records": [{"a": 1, "b": "x"}],
    }.items():
        package_model(logistic(), tmp_path / name, input_example=example)
        back = read_input_example(tmp_path / name / "input_example.json")
        if isinstance(example, np.ndarray):
            assert back.dtype == example.dtype
            assert back.tolist() == example.tolist()
        else:
            assert back == example


def test_an_extra_requirement_replaces_the_pin() -> None:
    pinned = pin_requirements(["numpy", "scikit-learn"], extra=["scikit-learn>=1.4"])
    assert pinned == [f"numpy=={version('numpy')}", "scikit-learn>=1.4"]


def test_log_model_uploads_the_directory_to_the_run(sdk: str) -> None:
    frame, _ = iris()
    with plinth.start_run() as run:
        info = plinth.log_model(forest(), "classifier", input_example=frame.head(2))
    assert info.model_uri == f"runs:/{run.id}/classifier"
    assert info.flavor == "sklearn"
    assert info.manifest.scan is ScanStatus.NOT_NEEDED
    listed = session.current().platform.artifacts.list(run.id, "classifier")
    assert {a.path for a in listed} == {
        "classifier/model.skops",
        "classifier/input_example.json",
        "classifier/requirements.txt",
        f"classifier/{MANIFEST_FILE}",
    }
    manifest_entry = next(a for a in listed if a.path.endswith(MANIFEST_FILE))
    assert manifest_entry.digest == info.digest  # the registry keys versions on it


def test_log_model_without_a_run_gets_its_own(sdk: str) -> None:
    info = plinth.log_model(forest(), "model")
    run = plinth.get_run(info.run_id)
    assert run.status == plinth.RunStatus.FINISHED
    assert plinth.active_run() is None


def test_registering_needs_a_registry_or_registers(sdk: str) -> None:
    registry = getattr(session.current().platform, "registry", None)
    if registry is None:
        with pytest.raises(plinth.InvalidArgument, match="no model registry"):
            plinth.log_model(forest(), registered_model_name="iris")
        return
    first = plinth.log_model(forest(), registered_model_name="iris")
    second = plinth.log_model(forest(), registered_model_name="iris")
    assert (first.registered_version, second.registered_version) == (1, 2)
    assert registry.resolve("iris", 2).source_uri == second.model_uri
