"""Any Python object with a ``predict`` method, saved with cloudpickle. This is the flavor of
last resort and the one that needs the scanner most: a pickle can run anything on load.

The class must be importable: one defined in ``__main__`` (or a lambda) would be stored as
code, by value, which the scanner rightly reports as able to run anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from plinth.entities.models import ModelManifest
from plinth.errors import InvalidArgument
from plinth.registry.flavors.base import LoadContext, Predictor, SavedModel, unknown_format


class PythonModel:
    """Subclass this for a model plinth has no flavor for: implement ``predict``, and
    ``load_context`` to read files saved beside the model (``log_model(...,
    artifacts={"vocab": "vocab.txt"})`` puts them under ``directory/artifacts``)."""

    def load_context(self, directory: Path) -> None:
        """Called once after loading, with the model directory."""

    def predict(self, data: Any) -> Any:
        raise NotImplementedError


class PythonFlavor:
    name = "python"
    priority = 90

    def detect(self, model: Any) -> bool:
        return isinstance(model, PythonModel) or callable(getattr(model, "predict", None))

    def save(self, model: Any, directory: Path, options: Mapping[str, Any]) -> SavedModel:
        fmt = str(options.get("format") or "cloudpickle")
        if fmt != "cloudpickle":
            raise unknown_format(self.name, fmt, ("cloudpickle",))
        if type(model).__module__ == "__main__":
            raise InvalidArgument.for_field(
                "model",
                f"{type(model).__name__} is defined in __main__ (a script or notebook): "
                "cloudpickle would store its code, which the scanner refuses; define the "
                "class in a module that loading can import",
            )
        import cloudpickle

        path = directory / "model.cloudpickle"
        path.write_bytes(cloudpickle.dumps(model))
        return SavedModel(path.name, fmt, packages=["cloudpickle"])

    def load(self, directory: Path, manifest: ModelManifest, _context: LoadContext) -> Predictor:
        import cloudpickle

        with open(directory / manifest.model_file, "rb") as source:
            model = cloudpickle.load(source)  # scanned before we get here
        if isinstance(model, PythonModel):
            model.load_context(directory)
        predictor: Predictor = model
        return predictor

    def predictor(self, model: Any) -> Predictor:
        predictor: Predictor = model
        return predictor
