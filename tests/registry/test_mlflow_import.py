"""MLflow model directories (built by hand: MLflow is not installed) import as plinth models;
their pickles are scanned like any other."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import cloudpickle
import numpy as np
import pytest
import sklearn
import typer
import yaml
from typer.testing import CliRunner

from plinth.cli import main, models_import
from plinth.config import Settings
from plinth.connect import connect
from plinth.entities.models import ScanStatus
from plinth.errors import InvalidArgument
from plinth.registry.loading import load_model_dir
from plinth.registry.mlflow_import import import_mlflow_model
from tests.registry.model_samples import forest, iris, logistic


class Backdoor:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (os.system, (f"touch {self.marker}",))


def mlflow_dir(folder: Path, flavors: dict[str, Any], **extra: Any) -> Path:
    """An MLflow model directory as ``mlflow.<flavor>.save_model`` leaves it."""
    folder.mkdir(parents=True, exist_ok=True)
    document = {
        "artifact_path": "model",
        "flavors": flavors,
        "mlflow_version": "2.17.0",
        "model_uuid": "4f1c2d0e8b9a4c7d9e0f1a2b3c4d5e6f",
        "run_id": "0123456789abcdef0123456789abcdef",
        "utc_time_created": "2026-11-01 10:00:00.000000",
        **extra,
    }
    (folder / "MLmodel").write_text(yaml.safe_dump(document))
    (folder / "requirements.txt").write_text("mlflow==2.17.0\ncloudpickle==3.1.0\n# note\n")
    (folder / "conda.yaml").write_text("name: mlflow-env\n")
    return folder


def sklearn_dir(folder: Path, model: Any) -> Path:
    folder.mkdir(parents=True)
    (folder / "model.pkl").write_bytes(cloudpickle.dumps(model))
    frame, _ = iris()
    (folder / "input_example.json").write_text(
        json.dumps({"columns": list(frame.columns), "data": frame.head(2).to_numpy().tolist()})
    )
    columns = [{"type": "double", "name": c, "required": True} for c in frame.columns]
    return mlflow_dir(
        folder,
        {
            "python_function": {
                "loader_module": "mlflow.sklearn",
                "model_path": "model.pkl",
                "predict_fn": "predict",
                "python_version": "3.11.7",
                "env": {"conda": "conda.yaml", "virtualenv": "python_env.yaml"},
            },
            "sklearn": {
                "code": None,
                "pickled_model": "model.pkl",
                "serialization_format": "cloudpickle",
                "sklearn_version": sklearn.__version__,
            },
        },
        signature={
            "inputs": json.dumps(columns),
            "outputs": json.dumps([{"type": "long", "required": True}]),
            "params": None,
        },
        saved_input_example_info={
            "artifact_path": "input_example.json",
            "pandas_orient": "split",
            "type": "dataframe",
        },
    )


def test_a_sklearn_model_imports_with_signature_and_example(tmp_path: Path) -> None:
    frame, _ = iris()
    source = sklearn_dir(tmp_path / "mlflow-model", forest())
    packaged = import_mlflow_model(source, tmp_path / "plinth-model")
    manifest = packaged.manifest
    assert (manifest.flavor, manifest.format) == ("sklearn", "cloudpickle")
    assert manifest.model_file == "mlflow/model.pkl"
    assert manifest.scan is ScanStatus.CLEAN  # a pickle, scanned: nothing dangerous in it
    assert manifest.python_version == "3.11.7"
    assert manifest.requirements == ["cloudpickle==3.1.0"]  # MLflow itself is not needed
    assert "mlflow/MLmodel" in manifest.files
    assert manifest.signature is not None
    first = manifest.signature.inputs[0]
    assert (first.name, first.type) == ("sepal_length", "float64")
    assert manifest.signature.outputs[0].type == "int64"
    loaded = load_model_dir(tmp_path / "plinth-model")
    assert loaded.predict(frame).tolist() == forest().predict(frame).tolist()
    assert loaded.input_example.shape == (2, 4)
    with pytest.raises(InvalidArgument) as caught:
        loaded.predict(frame.drop(columns=["sepal_width"]))
    assert caught.value.errors[0].field == "inputs.sepal_width"


def test_xgboost_and_onnx_models_import(tmp_path: Path) -> None:
    import xgboost
    from skl2onnx import to_onnx

    frame, target = iris()
    booster_model = xgboost.XGBClassifier(n_estimators=2, max_depth=2).fit(frame, target)
    xgb_dir = tmp_path / "xgb"
    xgb_dir.mkdir()
    booster_model.get_booster().save_model(str(xgb_dir / "model.ubj"))
    (xgb_dir / "model.ubj").rename(xgb_dir / "model.xgb")  # MLflow's default name
    xgb_flavor = {"data": "model.xgb", "model_class": "xgboost.sklearn.XGBClassifier"}
    mlflow_dir(xgb_dir, {"xgboost": xgb_flavor})
    xgb = import_mlflow_model(xgb_dir, tmp_path / "xgb-plinth")
    assert (xgb.manifest.flavor, xgb.manifest.format) == ("xgboost", "ubj")
    assert xgb.manifest.scan is ScanStatus.NOT_NEEDED
    predicted = load_model_dir(tmp_path / "xgb-plinth").predict(frame)
    assert predicted.tolist() == booster_model.predict(frame).tolist()

    onnx_dir = tmp_path / "onnx"
    onnx_dir.mkdir()
    features = frame.to_numpy().astype(np.float32)
    proto = to_onnx(logistic(), features[:1], options={"zipmap": False})
    (onnx_dir / "model.onnx").write_bytes(proto.SerializeToString())
    spec = [{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 4]}, "name": "X"}]
    mlflow_dir(
        onnx_dir,
        {
            "python_function": {"loader_module": "mlflow.onnx", "data": "model.onnx"},
            "onnx": {"data": "model.onnx"},
        },
        signature={"inputs": json.dumps(spec)},
    )
    onnx_model = import_mlflow_model(onnx_dir, tmp_path / "onnx-plinth")
    assert onnx_model.manifest.signature is not None
    assert onnx_model.manifest.signature.inputs[0].shape == [-1, 4]
    output = load_model_dir(tmp_path / "onnx-plinth").predict(features)
    assert output["label"].tolist() == logistic().predict(features).tolist()


def test_a_malicious_mlflow_pickle_is_refused(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    source = sklearn_dir(tmp_path / "evil", forest())
    (source / "model.pkl").write_bytes(cloudpickle.dumps(Backdoor(marker)))
    with pytest.raises(InvalidArgument) as caught:
        import_mlflow_model(source, tmp_path / "plinth-model")
    assert caught.value.errors[0].field == "files.mlflow/model.pkl"
    assert "system (dangerous)" in caught.value.errors[0].message
    assert not marker.exists()


def test_what_cannot_be_imported_says_why(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgument, match="has no MLmodel"):
        import_mlflow_model(tmp_path, tmp_path / "out")
    pyfunc = {"python_function": {"loader_module": "mlflow.pyfunc.model", "python_model": "m.pkl"}}
    source = mlflow_dir(tmp_path / "custom", pyfunc)
    with pytest.raises(InvalidArgument, match="needs MLflow itself") as caught:
        import_mlflow_model(source, tmp_path / "out")
    assert caught.value.errors[0].field == "flavors"


def test_the_cli_imports_a_version(tmp_path: Path) -> None:
    app = typer.Typer()
    app.callback()(main.root)
    app.command("import-mlflow")(models_import.import_mlflow)
    app.command("unused")(lambda: None)  # a group of two, as under `plinth models`
    source = sklearn_dir(tmp_path / "mlflow-model", forest())
    data_dir = tmp_path / "data"
    runner = CliRunner(env={"COLUMNS": "300"})
    result = runner.invoke(
        app, ["--data-dir", str(data_dir), "import-mlflow", str(source), "--name", "iris"]
    )
    assert result.exit_code == 0, result.output
    assert "as models:/iris/1" in result.output
    assert "scan: clean" in result.output
    platform = connect(Settings(data_dir=data_dir))
    try:
        version = platform.registry.resolve("iris", 1)
        run = platform.tracking.store.get_run(version.run_id)
        assert run.tags["plinth.imported_from"] == "mlflow"
    finally:
        platform.close()
    failed = runner.invoke(
        app, ["--data-dir", str(data_dir), "import-mlflow", str(tmp_path), "-n", "x"]
    )
    assert failed.exit_code == 2
    assert "has no MLmodel" in failed.output
