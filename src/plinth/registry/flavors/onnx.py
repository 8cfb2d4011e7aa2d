"""ONNX models, run by onnxruntime on the CPU. The graph declares its inputs and outputs, so
an ONNX model has a signature even without an input example."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from plinth.entities.models import ColumnSpec, ModelManifest, Signature
from plinth.errors import InvalidArgument
from plinth.registry.flavors.base import LoadContext, Predictor, SavedModel, unknown_format

TENSOR_TYPES: dict[str, Any] = {
    "tensor(float)": np.float32,
    "tensor(double)": np.float64,
    "tensor(float16)": np.float16,
    "tensor(int64)": np.int64,
    "tensor(int32)": np.int32,
    "tensor(int16)": np.int16,
    "tensor(int8)": np.int8,
    "tensor(uint8)": np.uint8,
    "tensor(bool)": np.bool_,
    "tensor(string)": np.object_,
}


class OnnxPredictor:
    """Feeds arrays to an ``InferenceSession``; one output comes back as an array, several
    as a dict by output name."""

    def __init__(self, session: Any) -> None:
        self.session = session
        self.inputs = session.get_inputs()
        self.output_names = [output.name for output in session.get_outputs()]

    def predict(self, data: Any) -> Any:
        results = self.session.run(None, self._feeds(data))
        if len(results) == 1:
            return results[0]
        return dict(zip(self.output_names, results, strict=True))

    def predict_proba(self, data: Any) -> Any:
        """The probabilities output of a converted classifier (skl2onnx names it so)."""
        names = [n for n in self.output_names if "probab" in n.lower()]
        if not names:
            raise InvalidArgument.for_field("model", "this ONNX model has no probabilities output")
        values = self.session.run([names[0]], self._feeds(data))[0]
        if isinstance(values, list):  # a ZipMap: one {label: probability} per row
            return np.array([[row[key] for key in sorted(row)] for row in values])
        return values

    def _feeds(self, data: Any) -> dict[str, Any]:
        if isinstance(data, Mapping):
            return {i.name: self._cast(i, data[i.name]) for i in self.inputs if i.name in data}
        if hasattr(data, "to_numpy") and len(self.inputs) > 1:  # one column per input
            return {
                i.name: self._cast(i, data[i.name].to_numpy().reshape(-1, 1)) for i in self.inputs
            }
        if len(self.inputs) != 1:
            names = ", ".join(i.name for i in self.inputs)
            raise InvalidArgument.for_field("data", f"this model takes several inputs: {names}")
        array = data.to_numpy() if hasattr(data, "to_numpy") else data
        return {self.inputs[0].name: self._cast(self.inputs[0], array)}

    @staticmethod
    def _cast(spec: Any, value: Any) -> Any:
        dtype = TENSOR_TYPES.get(spec.type)
        array = np.asarray(value)
        return array if dtype is None or array.dtype == dtype else array.astype(dtype)


class OnnxFlavor:
    name = "onnx"
    priority = 30

    def detect(self, model: Any) -> bool:
        return type(model).__module__.split(".")[0] == "onnx" and hasattr(model, "graph")

    def save(self, model: Any, directory: Path, options: Mapping[str, Any]) -> SavedModel:
        fmt = str(options.get("format") or "onnx")
        if fmt != "onnx":
            raise unknown_format(self.name, fmt, ("onnx",))
        import onnx

        proto = onnx.load_model_from_string(model) if isinstance(model, bytes) else model
        onnx.checker.check_model(proto)
        path = directory / "model.onnx"
        onnx.save_model(proto, str(path))
        return SavedModel(
            path.name, "onnx", packages=["onnx", "onnxruntime"], signature=graph_signature(proto)
        )

    def load(self, directory: Path, manifest: ModelManifest, _context: LoadContext) -> Predictor:
        import onnxruntime

        session = onnxruntime.InferenceSession(
            str(directory / manifest.model_file), providers=["CPUExecutionProvider"]
        )
        return OnnxPredictor(session)

    def predictor(self, model: Any) -> Predictor:
        import onnxruntime

        proto = model if isinstance(model, bytes) else model.SerializeToString()
        return OnnxPredictor(
            onnxruntime.InferenceSession(proto, providers=["CPUExecutionProvider"])
        )


def graph_signature(proto: Any) -> Signature:
    """Inputs and tensor outputs as the graph declares them (-1 for a symbolic dimension)."""
    initializers = {init.name for init in proto.graph.initializer}
    inputs = [_spec(v) for v in proto.graph.input if v.name not in initializers]
    outputs = [_spec(v) for v in proto.graph.output if v.type.HasField("tensor_type")]
    return Signature(inputs=[s for s in inputs if s], outputs=[s for s in outputs if s])


def _spec(value: Any) -> ColumnSpec | None:
    from onnx.helper import tensor_dtype_to_np_dtype

    if not value.type.HasField("tensor_type"):
        return None
    tensor = value.type.tensor_type
    dtype = tensor_dtype_to_np_dtype(tensor.elem_type)
    shape = [d.dim_value if d.HasField("dim_value") else -1 for d in tensor.shape.dim]
    name = "str" if dtype.kind in "OUS" else dtype.name
    return ColumnSpec(name=value.name, type=name, shape=shape)
