"""XGBoost models in XGBoost's own format (JSON by default, UBJSON when asked): data, never
code, so nothing needs scanning. The scikit-learn wrappers (``XGBClassifier``, ...) and
plain ``Booster`` objects both round-trip."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from plinth.entities.models import ModelManifest
from plinth.errors import InvalidArgument
from plinth.registry.flavors.base import (
    LoadContext,
    Predictor,
    SavedModel,
    class_path,
    option,
    resolve_class,
    unknown_format,
)

FORMATS = ("json", "ubj")


class BoosterPredictor:
    """A ``Booster`` predicts from a ``DMatrix``; this takes what the signature passes."""

    def __init__(self, booster: Any) -> None:
        self.booster = booster

    def predict(self, data: Any) -> Any:
        import xgboost

        return self.booster.predict(xgboost.DMatrix(data))


class XGBoostFlavor:
    name = "xgboost"
    priority = 20

    def detect(self, model: Any) -> bool:
        return type(model).__module__.split(".")[0] == "xgboost"

    def save(self, model: Any, directory: Path, options: Mapping[str, Any]) -> SavedModel:
        fmt = option(options, "format", "json")
        if fmt not in FORMATS:
            raise unknown_format(self.name, fmt, FORMATS)
        if not hasattr(model, "save_model"):
            raise InvalidArgument.for_field(
                "model", f"{type(model).__name__} is not an XGBoost model"
            )
        path = directory / f"model.{fmt}"
        model.save_model(str(path))
        return SavedModel(
            path.name,
            fmt,
            options={"model_class": class_path(type(model))},
            packages=["xgboost"],
        )

    def load(self, directory: Path, manifest: ModelManifest, _context: LoadContext) -> Predictor:
        if manifest.format not in FORMATS:
            raise unknown_format(self.name, manifest.format, FORMATS)
        import xgboost

        name = str(manifest.flavor_options.get("model_class", "xgboost.core:Booster"))
        cls = resolve_class(name, ("xgboost",))
        if not issubclass(cls, xgboost.XGBModel | xgboost.Booster):
            raise InvalidArgument.for_field("flavor_options", f"{name!r} is not an XGBoost model")
        model = cls()
        # from bytes: XGBoost then reads the content, never guesses from the file's name
        model.load_model(bytearray((directory / manifest.model_file).read_bytes()))
        return self.predictor(model)

    def predictor(self, model: Any) -> Predictor:
        import xgboost

        if isinstance(model, xgboost.Booster):
            return BoosterPredictor(model)
        predictor: Predictor = model
        return predictor
