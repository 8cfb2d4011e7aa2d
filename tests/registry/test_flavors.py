"""Each flavor saves a model and loads it back predicting the same thing."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import plinth
from plinth.entities.models import ScanStatus
from plinth.errors import InvalidArgument
from plinth.registry.flavors import detect_flavor, flavors
from plinth.registry.loading import load_model_dir
from plinth.registry.packaging import package_model
from tests.registry.model_samples import iris, logistic, with_custom_step

HAS_TORCH = importlib.util.find_spec("torch") is not None


class Scaled(plinth.PythonModel):
    """A Python model reading a file saved beside it."""

    def __init__(self) -> None:
        self.factor = 0.0

    def load_context(self, directory: Path) -> None:
        self.factor = float((directory / "artifacts" / "factor.txt").read_text())

    def predict(self, data: Any) -> Any:
        return np.asarray(data)[:, 0] * self.factor


def test_builtins_are_listed_in_detection_order() -> None:
    names = list(flavors())
    assert {"sklearn", "xgboost", "onnx", "pytorch", "python"} <= set(names)
    assert names.index("xgboost") < names.index("sklearn") < names.index("python")


def test_sklearn_skops_round_trip_trusts_sklearn_types(tmp_path: Path) -> None:
    from sklearn.ensemble import RandomForestClassifier

    frame, target = iris()
    model = RandomForestClassifier(n_estimators=3, random_state=0).fit(frame, target)
    packaged = package_model(model, tmp_path / "m", input_example=frame.head(3))
    assert (packaged.manifest.flavor, packaged.manifest.format) == ("sklearn", "skops")
    assert packaged.manifest.scan is ScanStatus.NOT_NEEDED
    loaded = load_model_dir(tmp_path / "m")  # the forest's Tree type is scikit-learn's own
    assert loaded.predict(frame).tolist() == model.predict(frame).tolist()
    assert loaded.predict_proba(frame.head(2)).shape == (2, 3)


def test_skops_refuses_foreign_types_unless_trusted(tmp_path: Path) -> None:
    frame, _ = iris()
    features = frame.to_numpy()
    package_model(with_custom_step(), tmp_path / "m")
    with pytest.raises(InvalidArgument) as caught:
        load_model_dir(tmp_path / "m")
    assert caught.value.errors[0].field == "trusted"
    assert "tests.registry.model_samples.double" in caught.value.errors[0].message
    loaded = load_model_dir(tmp_path / "m", trusted=True)
    assert loaded.predict(features).tolist() == with_custom_step().predict(features).tolist()


@pytest.mark.parametrize(("fmt", "scan"), [("joblib", "not-scanned"), ("pickle", "clean")])
def test_sklearn_pickles_are_scanned(tmp_path: Path, fmt: str, scan: str) -> None:
    frame, _ = iris()
    packaged = package_model(logistic(), tmp_path / "m", format=fmt)
    assert packaged.manifest.scan.value == scan
    if scan == "not-scanned":  # picklescan cannot read joblib's raw arrays: trust is needed
        with pytest.raises(InvalidArgument, match="trusted=True"):
            load_model_dir(tmp_path / "m")
    loaded = load_model_dir(tmp_path / "m", trusted=scan != "clean")
    assert (
        loaded.predict(frame.to_numpy()[:5]).tolist()
        == logistic().predict(frame.to_numpy()[:5]).tolist()
    )


def test_xgboost_native_formats(tmp_path: Path) -> None:
    import xgboost

    frame, target = iris()
    model = xgboost.XGBClassifier(n_estimators=3, max_depth=2).fit(frame, target)
    assert detect_flavor(model).name == "xgboost"  # before sklearn, whose estimator it also is
    packaged = package_model(model, tmp_path / "sk", input_example=frame.head(2))
    assert (packaged.manifest.format, packaged.manifest.scan) == ("json", ScanStatus.NOT_NEEDED)
    loaded = load_model_dir(tmp_path / "sk")
    assert loaded.predict(frame).tolist() == model.predict(frame).tolist()
    booster = model.get_booster()
    package_model(booster, tmp_path / "b", format="ubj")
    raw = load_model_dir(tmp_path / "b").predict(frame)
    assert np.allclose(raw, booster.predict(xgboost.DMatrix(frame)))


def test_onnx_has_its_graph_signature(tmp_path: Path) -> None:
    from skl2onnx import to_onnx

    frame, _ = iris()
    features = frame.to_numpy()
    proto = to_onnx(logistic(), features[:1].astype(np.float32), options={"zipmap": False})
    packaged = package_model(proto, tmp_path / "m")
    signature = packaged.manifest.signature
    assert signature is not None
    assert [(s.type, s.shape) for s in signature.inputs] == [("float32", [-1, 4])]
    loaded = load_model_dir(tmp_path / "m")
    output = loaded.predict(features)  # float64 in: cast to the graph's float32
    assert output["label"].tolist() == logistic().predict(features).tolist()
    assert np.allclose(
        loaded.predict_proba(features), logistic().predict_proba(features), atol=1e-4
    )
    with pytest.raises(InvalidArgument, match="expected shape"):
        loaded.predict(features[:, :3])


def test_python_model_gets_its_files(tmp_path: Path) -> None:
    factor = tmp_path / "factor.txt"
    factor.write_text("3")
    package_model(Scaled(), tmp_path / "m", artifacts={"factor.txt": factor})
    loaded = load_model_dir(tmp_path / "m")
    assert loaded.manifest.scan is ScanStatus.CLEAN
    assert loaded.predict(np.array([[1.0], [2.0]])).tolist() == [3.0, 6.0]


def test_a_python_model_defined_in_main_is_refused_with_the_reason(tmp_path: Path) -> None:
    local = type("Local", (plinth.PythonModel,), {"__module__": "__main__"})
    with pytest.raises(InvalidArgument, match="defined in __main__"):
        package_model(local(), tmp_path / "m")


def test_unknown_flavors_formats_and_models_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgument, match="unknown flavor 'nope'"):
        package_model(logistic(), tmp_path / "a", flavor="nope")
    with pytest.raises(InvalidArgument, match="not 'hdf5'"):
        package_model(logistic(), tmp_path / "b", format="hdf5")
    with pytest.raises(InvalidArgument, match=r"no flavor saves a builtins\.object"):
        package_model(object(), tmp_path / "c")


@pytest.mark.skipif(not HAS_TORCH, reason="PyTorch is not installed (the pytorch extra)")
@pytest.mark.parametrize("fmt", ["torchscript", "state_dict"])
def test_pytorch_round_trip(tmp_path: Path, fmt: str) -> None:
    import torch

    from tests.registry.torch_models import TinyNet

    torch.manual_seed(0)
    module = TinyNet(hidden=3)
    example = np.random.default_rng(0).normal(size=(4, 4)).astype(np.float32)
    packaged = package_model(
        module,
        tmp_path / "m",
        format=fmt,
        input_example=example,
        options={"init_kwargs": {"hidden": 3}},
    )
    assert packaged.manifest.flavor == "pytorch"
    assert packaged.manifest.scan is ScanStatus.CLEAN
    loaded = load_model_dir(tmp_path / "m")
    with torch.no_grad():
        expected = module(torch.from_numpy(example)).numpy()
    assert np.allclose(loaded.predict(example), expected, atol=1e-6)
    with pytest.raises(InvalidArgument, match="expected shape"):
        loaded.predict(example[:, :2])


@pytest.mark.skipif(not HAS_TORCH, reason="PyTorch is not installed (the pytorch extra)")
def test_pytorch_traces_what_it_cannot_compile(tmp_path: Path) -> None:
    from tests.registry.torch_models import Lambda

    with pytest.raises(InvalidArgument, match="give an input_example to trace it"):
        package_model(Lambda(), tmp_path / "a")
    example = np.ones((2, 3), dtype=np.float32)
    package_model(Lambda(), tmp_path / "b", input_example=example)
    assert load_model_dir(tmp_path / "b").predict(example).tolist() == [[3.0] * 3] * 2
