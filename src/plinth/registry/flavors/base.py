"""The contract every model flavor meets: detect a model, save it into a model directory,
load it back as a predictor. A flavor imports its framework only inside these methods, so
listing flavors (or loading one model) never imports every framework."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from pydantic import JsonValue

from plinth.entities.models import ModelManifest, Signature
from plinth.errors import InvalidArgument


@runtime_checkable
class Predictor(Protocol):
    """What ``load`` returns: ``predict`` takes data already checked against the signature
    (a DataFrame for named columns, an ndarray or a dict of them for tensors)."""

    def predict(self, data: Any) -> Any: ...


@dataclass(frozen=True)
class SavedModel:
    """What ``save`` wrote: the main file, its format and what ``load`` needs to read it."""

    model_file: str
    format: str
    options: dict[str, JsonValue] = field(default_factory=dict)
    packages: list[str] = field(default_factory=list)
    """Distributions the saved model needs at load time (pinned by packaging)."""
    signature: Signature | None = None
    """A signature the format itself declares (ONNX graphs do), used when none is given."""


@dataclass(frozen=True)
class LoadContext:
    trusted: bool = False
    """The caller vouches for the model: formats that would otherwise refuse may load."""
    cache_dir: Path | None = None
    """A private folder of this model in the local cache, for a faster form to load next
    time (None when loading straight from a folder the caller owns)."""


class Flavor(Protocol):
    """A way to save and load one framework's models (an entry point of
    ``plinth.model_flavors``)."""

    name: str
    priority: int
    """Detection order, lowest first: XGBoost's estimators are scikit-learn estimators too."""

    def detect(self, model: Any) -> bool:
        """Whether this flavor saves ``model``; must not import a framework not yet imported."""
        ...

    def save(self, model: Any, directory: Path, options: Mapping[str, Any]) -> SavedModel:
        """Write ``model`` under ``directory``. ``options`` holds the caller's options plus
        ``format`` (None: the flavor's default) and ``input_example`` (None when absent)."""
        ...

    def load(self, directory: Path, manifest: ModelManifest, context: LoadContext) -> Predictor:
        """Read the model ``save`` wrote."""
        ...

    def predictor(self, model: Any) -> Predictor:
        """The in-memory model as ``load`` would return it (to infer the output signature)."""
        ...


def resolve_class(path: str, packages: tuple[str, ...], base: type | None = None) -> type:
    """Import ``module:qualname`` (or ``module.qualname``) named by a manifest, but only from
    ``packages`` (empty: any), so a manifest cannot make us import what the flavor never
    expects; and the result must be a class (a ``base`` subclass when given)."""
    module_name, _, qualname = path.partition(":") if ":" in path else path.rpartition(".")
    top = module_name.split(".")[0]
    if not module_name or not qualname or (packages and top not in packages):
        raise InvalidArgument.for_field(
            "flavor_options", f"class {path!r} is not from {', '.join(packages)}"
        )
    try:
        found: Any = importlib.import_module(module_name)
        for part in qualname.split("."):
            found = getattr(found, part)
    except (ImportError, AttributeError) as exc:
        raise InvalidArgument.for_field("flavor_options", f"cannot import {path!r}: {exc}") from exc
    if not isinstance(found, type) or (base is not None and not issubclass(found, base)):
        raise InvalidArgument.for_field("flavor_options", f"{path!r} is not a model class")
    return found


def class_path(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def option(options: Mapping[str, Any], key: str, default: str) -> str:
    value = options.get(key, default)
    return default if value is None else str(value)


def unknown_format(flavor: str, given: str, known: tuple[str, ...]) -> InvalidArgument:
    return InvalidArgument.for_field(
        "format", f"{flavor} models are saved as {' or '.join(known)}, not {given!r}"
    )
