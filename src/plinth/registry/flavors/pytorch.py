"""PyTorch modules (the optional ``pytorch`` extra): TorchScript by default, so loading needs
no Python class; or the state dict, loaded with ``weights_only=True`` into the module's class
(imported by name, constructed with the ``init_kwargs`` option). Both files are zip archives
holding pickles, so both are scanned."""

from __future__ import annotations

import sys
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
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

FILES = {"torchscript": "model.pt", "state_dict": "state_dict.pt"}


class TorchPredictor:
    """Runs the module without gradients (``load`` puts it in eval mode); arrays in, arrays
    out."""

    def __init__(self, module: Any) -> None:
        self.module = module

    def predict(self, data: Any) -> Any:
        import torch

        with torch.no_grad():
            if isinstance(data, Mapping):
                output = self.module(**{k: _tensor(v) for k, v in data.items()})
            else:
                output = self.module(_tensor(data))
        if isinstance(output, tuple | list):
            return [o.cpu().numpy() for o in output]
        return output.cpu().numpy()


def _tensor(value: Any) -> Any:
    import numpy as np
    import torch

    if isinstance(value, torch.Tensor):
        return value
    array = value.to_numpy() if hasattr(value, "to_numpy") else np.asarray(value)
    return torch.from_numpy(np.ascontiguousarray(array))


class PyTorchFlavor:
    name = "pytorch"
    priority = 10

    def detect(self, model: Any) -> bool:
        if "torch" not in sys.modules:
            return False
        import torch

        return isinstance(model, torch.nn.Module)

    def save(self, model: Any, directory: Path, options: Mapping[str, Any]) -> SavedModel:
        import torch

        fmt = option(options, "format", "torchscript")
        if fmt not in FILES:
            raise unknown_format(self.name, fmt, tuple(FILES))
        path = directory / FILES[fmt]
        saved_options: dict[str, Any] = {}
        if fmt == "torchscript":
            scripted = model
            if not isinstance(model, torch.jit.ScriptModule):
                scripted = _script(model, options.get("input_example"))
            with _quiet():
                torch.jit.save(scripted, str(path))
        else:
            torch.save(model.state_dict(), path)
            init_kwargs = dict(options.get("init_kwargs") or {})
            saved_options = {"model_class": class_path(type(model)), "init_kwargs": init_kwargs}
        return SavedModel(path.name, fmt, options=saved_options, packages=["torch"])

    def load(self, directory: Path, manifest: ModelManifest, _context: LoadContext) -> Predictor:
        import torch

        path = directory / manifest.model_file
        if manifest.format == "torchscript":
            jit: Any = torch.jit  # untyped in some torch releases
            with _quiet():
                return TorchPredictor(jit.load(str(path), map_location="cpu").eval())
        if manifest.format != "state_dict":
            raise unknown_format(self.name, manifest.format, tuple(FILES))
        cls = resolve_class(
            str(manifest.flavor_options.get("model_class", "")), (), torch.nn.Module
        )
        kwargs = manifest.flavor_options.get("init_kwargs") or {}
        if not isinstance(kwargs, dict):
            raise InvalidArgument.for_field("flavor_options", "init_kwargs must be a mapping")
        module = cls(**kwargs)
        module.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
        return TorchPredictor(module.eval())

    def predictor(self, model: Any) -> Predictor:
        return TorchPredictor(model)


def _script(model: Any, example: Any) -> Any:
    """TorchScript by compiling the module, else by tracing it on the input example."""
    import torch

    with _quiet():
        try:
            return torch.jit.script(model)
        except Exception as exc:
            if example is None:
                reason = str(exc).strip().splitlines()[0]
                raise InvalidArgument.for_field(
                    "model",
                    f"TorchScript cannot compile {type(model).__name__} ({reason}); give an "
                    "input_example to trace it, or save it with format='state_dict'",
                ) from exc
        jit: Any = torch.jit  # untyped in some torch releases
        with torch.no_grad():
            return jit.trace(model, _tensor(example))


@contextmanager
def _quiet() -> Iterator[None]:
    """TorchScript is deprecated upstream, but it is the format that loads without the
    model's Python class: chosen on purpose, so its warnings are not the user's concern."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        yield
