"""Importing an MLflow model directory (one with an ``MLmodel`` file) as a plinth model.

The MLflow folder is copied, untouched, under ``mlflow/`` (for provenance); plinth's
manifest points at the model file inside it. scikit-learn, XGBoost and ONNX flavors are
read (and ``python_function`` when it wraps one of them). MLflow's scikit-learn models are
pickles (``cloudpickle`` by default), so they are scanned like any pickle: a dangerous one
is refused, and loading one needs a clean scan or ``trusted=True``. MLflow itself is never
imported.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import orjson
import yaml

from plinth.entities.models import ColumnSpec, Signature
from plinth.errors import InvalidArgument
from plinth.registry.examples import EXAMPLE_FILE, write_input_example
from plinth.registry.flavors import SavedModel
from plinth.registry.packaging import PackagedModel, finish_model_dir

MLMODEL = "MLmodel"
FOLDER = "mlflow"
SUPPORTED = ("sklearn", "xgboost", "onnx")
_LOADER_MODULES = {"mlflow.sklearn": "sklearn", "mlflow.xgboost": "xgboost", "mlflow.onnx": "onnx"}
_TYPES = {
    "double": "float64",
    "float": "float32",
    "long": "int64",
    "integer": "int32",
    "boolean": "bool",
    "string": "str",
    "binary": "bytes",
    "datetime": "datetime64[ns]",
}
"""MLflow's column types -> the numpy names plinth signatures use."""
_JSON_START = re.compile(rb"\s*\{\s*[\"}]")
"""XGBoost's JSON starts like this; its UBJSON starts with ``{`` too, then a type marker."""
_DROPPED_REQUIREMENTS = ("mlflow",)
"""Requirements plinth does not need to load the model."""


def read_mlmodel(source: Path) -> dict[str, Any]:
    path = source / MLMODEL
    if not path.is_file():
        raise InvalidArgument.for_field("path", f"{source} has no {MLMODEL} file")
    try:
        document = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise InvalidArgument.for_field(MLMODEL, f"not valid YAML: {exc}") from exc
    if not isinstance(document, dict) or not isinstance(document.get("flavors"), dict):
        raise InvalidArgument.for_field(MLMODEL, "names no flavors")
    return document


def import_mlflow_model(source: Path, directory: Path) -> PackagedModel:
    """Write a plinth model directory at ``directory`` from the MLflow model at ``source``."""
    mlmodel = read_mlmodel(source)
    flavor, config = _pick_flavor(mlmodel["flavors"])
    directory.mkdir(parents=True, exist_ok=True)
    shutil.copytree(source, directory / FOLDER)
    saved = _saved(flavor, config, directory / FOLDER)
    example_file = _example(source, mlmodel, directory)
    pyfunc = mlmodel["flavors"].get("python_function") or {}
    return finish_model_dir(
        directory,
        flavor=flavor,
        saved=saved,
        signature=_signature(mlmodel.get("signature")),
        input_example_file=example_file,
        requirements=_requirements(source / "requirements.txt"),
        python_version=str(pyfunc.get("python_version") or "") or None,
    )


def _pick_flavor(flavors: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    for name in SUPPORTED:
        if isinstance(flavors.get(name), dict):
            return name, flavors[name]
    pyfunc = flavors.get("python_function")
    if isinstance(pyfunc, dict) and pyfunc.get("loader_module") in _LOADER_MODULES:
        return _LOADER_MODULES[pyfunc["loader_module"]], {"pickled_model": pyfunc.get("model_path")}
    found = ", ".join(sorted(flavors)) or "none"
    raise InvalidArgument.for_field(
        "flavors",
        f"MLflow flavors {found}: plinth imports {', '.join(SUPPORTED)} (a python_function "
        "model with its own Python class needs MLflow itself to load)",
    )


def _saved(flavor: str, config: dict[str, Any], folder: Path) -> SavedModel:
    key = "pickled_model" if flavor == "sklearn" else "data"
    name = config.get(key)
    if not isinstance(name, str) or not (folder / name).is_file():
        raise InvalidArgument.for_field(f"flavors.{flavor}.{key}", f"no model file {name!r}")
    model_file = f"{FOLDER}/{name}"
    options: dict[str, Any] = {"mlflow_flavor": flavor}
    if flavor == "sklearn":
        fmt = str(config.get("serialization_format") or "cloudpickle")
        if fmt not in ("cloudpickle", "pickle"):
            raise InvalidArgument.for_field(
                f"flavors.{flavor}.serialization_format", f"{fmt!r} is not supported"
            )
        return SavedModel(model_file, fmt, options)
    if flavor == "xgboost":
        with open(folder / name, "rb") as source:
            head = source.read(64)
        options["model_class"] = str(config.get("model_class") or "xgboost.core.Booster")
        return SavedModel(model_file, "json" if _JSON_START.match(head) else "ubj", options)
    return SavedModel(model_file, "onnx", options)


def _signature(raw: Any) -> Signature | None:
    if not isinstance(raw, dict) or not raw.get("inputs"):
        return None
    return Signature(
        inputs=_specs(raw["inputs"], "inputs"), outputs=_specs(raw.get("outputs"), "outputs")
    )


def _specs(raw: Any, field: str) -> list[ColumnSpec]:
    """MLflow stores each side as a JSON string of column or tensor specs."""
    if not raw:
        return []
    try:
        items = orjson.loads(raw) if isinstance(raw, str) else raw
        specs = []
        for item in items:
            if item.get("type") == "tensor":
                tensor = item["tensor-spec"]
                dtype = "str" if tensor["dtype"] in ("str", "object") else str(tensor["dtype"])
                specs.append(
                    ColumnSpec(name=item.get("name"), type=dtype, shape=list(tensor["shape"]))
                )
            else:
                kind = str(item["type"])
                specs.append(
                    ColumnSpec(
                        name=item.get("name"),
                        type=_TYPES.get(kind, "object"),
                        optional=not item.get("required", True),
                    )
                )
        return specs
    except (orjson.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
        raise InvalidArgument.for_field(
            f"signature.{field}", f"not an MLflow signature: {exc}"
        ) from exc


def _example(source: Path, mlmodel: dict[str, Any], directory: Path) -> str | None:
    """MLflow's example (a split-oriented DataFrame, or ``{"inputs": ...}`` for tensors) in
    plinth's form; an example we cannot read is left behind, never a reason to fail."""
    info = mlmodel.get("saved_input_example_info")
    if not isinstance(info, dict) or not (source / str(info.get("artifact_path"))).is_file():
        return None
    try:
        content = orjson.loads((source / str(info["artifact_path"])).read_bytes())
        if info.get("type") == "dataframe" and "columns" in content:
            import pandas as pd

            example: Any = pd.DataFrame(content["data"], columns=content["columns"])
        elif isinstance(content, dict) and "inputs" in content:
            example = content["inputs"]
        else:
            return None
        write_input_example(directory / EXAMPLE_FILE, example)
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, ImportError):
        return None
    return EXAMPLE_FILE


def _requirements(path: Path) -> list[str]:
    if not path.is_file():
        return []
    lines = [line.split("#", 1)[0].strip() for line in path.read_text().splitlines()]
    return [
        line
        for line in lines
        if line and not line.startswith("-") and not line.lower().startswith(_DROPPED_REQUIREMENTS)
    ]
