"""Model flavors: entry points of ``plinth.model_flavors`` (plinth's own are declared in
``pyproject.toml`` like a third party's). ``BUILTIN`` lets an install whose metadata predates
a built-in still find it; a plugin of the same name wins."""

from __future__ import annotations

import importlib
from functools import cache
from typing import Any

from plinth.errors import InvalidArgument
from plinth.plugins import load_group
from plinth.registry.flavors.base import Flavor, LoadContext, Predictor, SavedModel

GROUP = "plinth.model_flavors"
BUILTIN = {
    "sklearn": "plinth.registry.flavors.sklearn:SklearnFlavor",
    "xgboost": "plinth.registry.flavors.xgboost:XGBoostFlavor",
    "onnx": "plinth.registry.flavors.onnx:OnnxFlavor",
    "pytorch": "plinth.registry.flavors.pytorch:PyTorchFlavor",
    "python": "plinth.registry.flavors.python:PythonFlavor",
}

__all__ = ["BUILTIN", "Flavor", "LoadContext", "Predictor", "SavedModel", "flavors", "get_flavor"]


@cache
def flavors() -> dict[str, Flavor]:
    """Every flavor by name, in detection order."""
    found: dict[str, Any] = {}
    for name, path in BUILTIN.items():
        module, _, attribute = path.partition(":")
        found[name] = getattr(importlib.import_module(module), attribute)
    found.update(load_group(GROUP))
    instances: dict[str, Flavor] = {name: cls() for name, cls in found.items()}
    return dict(sorted(instances.items(), key=lambda item: item[1].priority))


def get_flavor(name: str) -> Flavor:
    try:
        return flavors()[name]
    except KeyError:
        known = ", ".join(flavors())
        raise InvalidArgument.for_field(
            "flavor", f"unknown flavor {name!r} (known: {known})"
        ) from None


def detect_flavor(model: Any) -> Flavor:
    """The first flavor, in priority order, that recognises ``model``."""
    for flavor in flavors().values():
        if flavor.detect(model):
            return flavor
    raise InvalidArgument.for_field(
        "model",
        f"no flavor saves a {type(model).__module__}.{type(model).__qualname__}; "
        "pass flavor=... or wrap it in plinth.PythonModel",
    )
