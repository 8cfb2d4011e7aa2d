"""Pickles that would run code on load are refused at ``log_model`` with what was found, and
``load_model`` scans again rather than believe a manifest."""

from __future__ import annotations

import hashlib
import os
import pickle
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

import plinth
from plinth.entities.common import now_ms
from plinth.entities.models import MANIFEST_FILE, ModelManifest, ScanStatus
from plinth.errors import InvalidArgument
from plinth.registry.loading import CorruptModel, load_model_dir
from plinth.registry.packaging import package_model
from plinth.sdk import session
from tests.registry.model_samples import iris, logistic


class Backdoor:
    """Looks like a model; unpickling it runs a shell command."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (os.system, (f"touch {self.marker}",))

    def predict(self, data: Any) -> Any:
        return data


class Wrapper(plinth.PythonModel):
    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def predict(self, data: Any) -> Any:
        return data


def test_a_malicious_pickle_is_refused_at_log_model(sdk: str, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    with pytest.raises(InvalidArgument) as caught:
        plinth.log_model(Backdoor(marker), "model")
    error = caught.value
    assert "model refused: model.cloudpickle would run dangerous code" in error.detail
    assert [e.field for e in error.errors] == ["files.model.cloudpickle"]
    assert "system (dangerous)" in error.errors[0].message
    assert plinth.search_runs() == []  # refused before any run or upload
    assert not marker.exists()


def test_a_hidden_payload_is_refused_and_nothing_is_uploaded(sdk: str, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    with plinth.start_run() as run, pytest.raises(InvalidArgument, match="system"):
        plinth.log_model(Wrapper(Backdoor(marker)), "model")
    assert session.current().platform.artifacts.list(run.id) == []
    assert not marker.exists()


def test_loading_scans_again_whatever_the_manifest_says(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "model.pkl").write_bytes(pickle.dumps(Backdoor(marker)))
    package_model(logistic(), tmp_path / "honest", format="pickle")
    honest = yaml.safe_load((tmp_path / "honest" / MANIFEST_FILE).read_text())
    lying = ModelManifest.model_validate(honest | {"scan": "clean", "created_at": now_ms()})
    (folder / MANIFEST_FILE).write_text(yaml.safe_dump(lying.model_dump(mode="json")))
    with pytest.raises(CorruptModel, match="does not match its manifest"):
        load_model_dir(folder)  # the digests give it away first
    digest = hashlib.sha256((folder / "model.pkl").read_bytes()).hexdigest()
    files = {"model.pkl": {"sha256": digest, "size": (folder / "model.pkl").stat().st_size}}
    (folder / MANIFEST_FILE).write_text(
        yaml.safe_dump(lying.model_dump(mode="json") | {"files": files})
    )
    with pytest.raises(InvalidArgument) as caught:
        load_model_dir(folder)  # a consistent manifest that claims "clean" is not believed
    assert caught.value.errors[0].field == "trusted"
    assert "unsafe" in caught.value.errors[0].message
    assert "system (dangerous)" in caught.value.errors[0].message
    (folder / MANIFEST_FILE).write_text(
        yaml.safe_dump(lying.model_dump(mode="json") | {"files": {}})
    )
    with pytest.raises(CorruptModel, match="does not list its model file"):
        load_model_dir(folder)
    shutil.copytree(tmp_path / "honest", tmp_path / "extra")
    (tmp_path / "extra" / "extra.pkl").write_bytes(pickle.dumps(Backdoor(marker)))
    with pytest.raises(InvalidArgument, match=r"extra\.pkl: .*system"):
        load_model_dir(tmp_path / "extra")  # a file the manifest does not list is scanned too
    assert not marker.exists()


def test_a_joblib_model_warns_and_needs_trust(sdk: str) -> None:
    frame, _ = iris()
    with pytest.warns(UserWarning, match="will need trusted=True"):
        info = plinth.log_model(logistic(), format="joblib")
    assert info.manifest.scan is ScanStatus.NOT_SCANNED
    with pytest.raises(InvalidArgument, match="was not scanned clean") as caught:
        plinth.load_model(info.model_uri)
    assert caught.value.errors[0].field == "trusted"
    loaded = plinth.load_model(info.model_uri, trusted=True)
    features = frame.to_numpy()[:3]
    assert loaded.predict(features).tolist() == logistic().predict(features).tolist()
