"""scikit-learn models: skops by default (a data format: loading it runs no code), joblib or
pickle when asked (those are pickles: scanned, and ``trusted=True`` when the scan cannot
vouch for them).

skops refuses types outside its allow-list; the scikit-learn classes among them (a random
forest's ``Tree``) are trusted here, anything else needs ``trusted=True``. Importing
``skops.io`` imports every scikit-learn estimator (seconds), so the first load of a model
also keeps a pickle of the object skops built in the model's private cache folder, and
later loads (same scikit-learn and Python) read that: it was written on this machine, from
an object loaded safely.
"""

from __future__ import annotations

import os
import pickle
import sys
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from plinth.entities.models import ModelManifest
from plinth.errors import InvalidArgument
from plinth.registry.flavors.base import (
    LoadContext,
    Predictor,
    SavedModel,
    option,
    resolve_class,
    unknown_format,
)

FILES = {
    "skops": "model.skops",
    "joblib": "model.joblib",
    "pickle": "model.pkl",
    "cloudpickle": "model.pkl",
}
PACKAGES = {"skops": "skops", "joblib": "joblib", "pickle": "", "cloudpickle": "cloudpickle"}


class SklearnFlavor:
    name = "sklearn"
    priority = 50

    def detect(self, model: Any) -> bool:
        if type(model).__module__.split(".")[0] == "sklearn":
            return True
        if "sklearn" not in sys.modules:
            return False
        from sklearn.base import BaseEstimator

        return isinstance(model, BaseEstimator)

    def save(self, model: Any, directory: Path, options: Mapping[str, Any]) -> SavedModel:
        fmt = option(options, "format", "skops")
        if fmt not in FILES:
            raise unknown_format(self.name, fmt, tuple(FILES))
        path = directory / FILES[fmt]
        if fmt == "skops":
            import skops.io

            skops.io.dump(model, path)
        elif fmt == "joblib":
            import joblib

            joblib.dump(model, path)
        elif fmt == "cloudpickle":
            import cloudpickle

            path.write_bytes(cloudpickle.dumps(model))
        else:
            path.write_bytes(pickle.dumps(model, protocol=5))
        packages = ["scikit-learn", PACKAGES[fmt]]
        return SavedModel(path.name, fmt, packages=[p for p in packages if p])

    def load(self, directory: Path, manifest: ModelManifest, context: LoadContext) -> Predictor:
        path = directory / manifest.model_file
        if manifest.format == "skops":
            return _load_skops(path, context)
        if manifest.format == "joblib":
            import joblib

            model: Predictor = joblib.load(path)
            return model
        if manifest.format in ("pickle", "cloudpickle"):
            with open(path, "rb") as source:
                loaded: Predictor = pickle.load(source)  # scanned before we get here
            return loaded
        raise unknown_format(self.name, manifest.format, tuple(FILES))

    def predictor(self, model: Any) -> Predictor:
        predictor: Predictor = model
        return predictor


def _load_skops(path: Path, context: LoadContext) -> Predictor:
    ready = _ready_file(context.cache_dir)
    if ready is not None and ready.is_file():
        with open(ready, "rb") as source:
            cached: Predictor = pickle.load(source)  # written by this machine (see above)
        return cached
    import skops.io

    untrusted = skops.io.get_untrusted_types(file=path)
    foreign = [name for name in untrusted if not _is_sklearn_class(name)]
    if foreign and not context.trusted:
        raise InvalidArgument.for_field(
            "trusted",
            f"{path.name} holds types skops does not trust ({', '.join(foreign)}); "
            "load it with trusted=True if you trust where the model came from",
        )
    model: Predictor = skops.io.load(path, trusted=untrusted)
    if ready is not None and not foreign:  # a model that needed trust never skips the check
        partial = ready.with_name(f"{ready.name}.{uuid.uuid4().hex}.tmp")
        partial.write_bytes(pickle.dumps(model, protocol=5))
        os.replace(partial, ready)
    return model


def _ready_file(cache_dir: Path | None) -> Path | None:
    if cache_dir is None:
        return None
    import sklearn  # unpickling the model imports it anyway; metadata lookups cost more

    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    return cache_dir / f"sklearn-{sklearn.__version__}-py{python}.pkl"


def _is_sklearn_class(name: str) -> bool:
    try:
        resolve_class(name, ("sklearn",))
    except InvalidArgument:
        return False
    return True
