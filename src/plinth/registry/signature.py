"""Signatures: inferred from an input example, enforced on every ``predict``.

A signature is *tabular* (named columns: the model gets a DataFrame with exactly those
columns, in order) or made of *tensors* (specs with a shape: the model gets an ndarray, or a
dict of them when it takes several). Enforcement turns what the caller passed (DataFrame,
ndarray, dict, list of records) into that form, and refuses what would silently go wrong:
a missing column, a value of the wrong type, a tensor of the wrong shape, each named in the
error's field.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from plinth.entities.models import ColumnSpec, Signature
from plinth.errors import FieldError, InvalidArgument

_NULLABLE = {"Int64": "int64", "Int32": "int32", "Float64": "float64", "boolean": "bool"}


def type_name(dtype: Any, values: Any = None) -> str:
    """The signature's name for a numpy or pandas dtype: ``float64``, ``int64``, ``bool``,
    ``str`` (numpy/pandas strings, and object columns that hold only strings), ..."""
    name = str(dtype)
    if name in ("str", "string") or name.startswith("string["):
        return "str"
    if name in _NULLABLE:
        return _NULLABLE[name]
    if name == "category":
        return "category"
    try:
        np_dtype = np.dtype(dtype)
    except TypeError:
        return name
    if np_dtype.kind in "US":
        return "str"
    if np_dtype.kind == "O" and values is not None:
        sample = [v for v in np.asarray(values, dtype=object).ravel()[:100] if v is not None]
        if sample and all(isinstance(v, str) for v in sample):
            return "str"
    return str(np_dtype.name)


def infer_signature(example: Any, output: Any = None) -> Signature:
    """A signature from an input example (and, when given, a prediction on it)."""
    outputs = _specs(output) if output is not None else []
    return Signature(inputs=_specs(example), outputs=outputs)


def _specs(data: Any) -> list[ColumnSpec]:
    if _is_frame(data):
        return [
            ColumnSpec(name=str(column), type=type_name(data[column].dtype, data[column]))
            for column in data.columns
        ]
    if isinstance(data, Mapping):
        arrays = {str(k): _array(v) for k, v in data.items()}
        if any(a.ndim > 1 for a in arrays.values()):
            return [_tensor_spec(a, name) for name, a in arrays.items()]
        return [ColumnSpec(name=name, type=type_name(a.dtype, a)) for name, a in arrays.items()]
    if isinstance(data, list) and data and all(isinstance(row, Mapping) for row in data):
        return _specs(_frame(data))
    array = _array(data)
    if array.ndim == 0:
        raise InvalidArgument.for_field("input_example", "give at least one row, not a scalar")
    return [_tensor_spec(array, getattr(data, "name", None))]


def _tensor_spec(array: np.ndarray[Any, Any], name: str | None = None) -> ColumnSpec:
    shape = [-1, *array.shape[1:]]
    return ColumnSpec(name=name, type=type_name(array.dtype, array), shape=shape)


def is_tabular(signature: Signature) -> bool:
    return bool(signature.inputs) and all(
        spec.shape is None and spec.name for spec in signature.inputs
    )


def enforce(signature: Signature, data: Any) -> Any:
    """``data`` in the form the model takes, or ``InvalidArgument`` naming each bad field."""
    if is_tabular(signature):
        return _enforce_columns(signature.inputs, data)
    return _enforce_tensors(signature.inputs, data)


def _enforce_columns(specs: list[ColumnSpec], data: Any) -> Any:
    frame = _as_frame(data, specs)
    present = {str(c) for c in frame.columns}
    errors = [
        FieldError(f"inputs.{spec.name}", "missing column")
        for spec in specs
        if spec.name not in present and not spec.optional
    ]
    if errors:
        names = ", ".join(e.field.removeprefix("inputs.") for e in errors)
        raise InvalidArgument(f"missing input column(s): {names}", errors)
    columns: dict[str, Any] = {}
    for spec in specs:
        assert spec.name is not None
        if spec.name not in present:
            continue
        values = frame[spec.name]
        problem = _type_problem(spec, values.dtype, values)
        if problem:
            errors.append(FieldError(f"inputs.{spec.name}", problem))
        else:
            columns[spec.name] = _cast(spec, values)
    if errors:
        raise InvalidArgument("input columns of the wrong type", errors)
    import pandas as pd

    return pd.DataFrame(columns, index=frame.index)


def _as_frame(data: Any, specs: list[ColumnSpec]) -> Any:
    if _is_frame(data):  # signatures name columns with strings, whatever pandas had
        return data if all(isinstance(c, str) for c in data.columns) else data.rename(columns=str)
    if isinstance(data, Mapping):
        if all(np.ndim(v) == 0 for v in data.values()):
            return _frame([data])
        return _frame({str(k): list(np.asarray(v).ravel()) for k, v in data.items()})
    if isinstance(data, list) and data and all(isinstance(row, Mapping) for row in data):
        return _frame(data)
    array = np.asarray(data)
    if array.ndim == 2 and array.shape[1] == len(specs):  # positional columns
        return _frame({spec.name: array[:, i] for i, spec in enumerate(specs)})
    names = ", ".join(str(s.name) for s in specs)
    raise InvalidArgument.for_field(
        "inputs",
        f"this model takes columns {names}: pass a DataFrame, a dict or a list of records "
        f"(got {type(data).__name__} of shape {array.shape})",
    )


def _enforce_tensors(specs: list[ColumnSpec], data: Any) -> Any:
    if len(specs) == 1:
        spec = specs[0]
        if isinstance(data, Mapping) and spec.name in data:
            data = data[spec.name]
        return _checked_tensor(spec, _array(data), "inputs")
    if not isinstance(data, Mapping):
        names = ", ".join(str(s.name) for s in specs)
        raise InvalidArgument.for_field("inputs", f"pass a dict with the tensors {names}")
    missing = [
        FieldError(f"inputs.{s.name}", "missing tensor")
        for s in specs
        if s.name not in data and not s.optional
    ]
    if missing:
        raise InvalidArgument("missing input tensor(s)", missing)
    return {
        str(s.name): _checked_tensor(s, _array(data[s.name]), f"inputs.{s.name}")
        for s in specs
        if s.name in data
    }


def _checked_tensor(spec: ColumnSpec, array: np.ndarray[Any, Any], field: str) -> Any:
    problem = _type_problem(spec, array.dtype, array)
    if problem:
        raise InvalidArgument.for_field(field, problem)
    expected = spec.shape or []
    if spec.shape is not None and (
        array.ndim != len(expected)
        or any(want not in (-1, got) for want, got in zip(expected, array.shape, strict=False))
    ):
        want = "(" + ", ".join("any" if d == -1 else str(d) for d in expected) + ")"
        raise InvalidArgument.for_field(field, f"expected shape {want}, got {array.shape}")
    return _cast(spec, array)


def _type_problem(spec: ColumnSpec, dtype: Any, values: Any) -> str | None:
    """Why values of ``dtype`` cannot stand for ``spec.type`` (None: they can, maybe cast)."""
    want = spec.type
    got = type_name(dtype, values)
    if want in ("object", "category") or want == got:
        return None
    kind = _kind(got)
    if want == "str":
        ok = kind == "str"
    elif want == "bool":
        ok = kind == "b"
    elif want.startswith(("float", "double")):
        ok = kind in "iuf"  # integers widen to floats; floats narrow as the model asks
    elif want.startswith(("int", "uint")):
        ok = kind in "iu"  # a float is refused: its fraction would be cut silently
    elif want.startswith("datetime64"):
        ok = kind == "M"
    else:
        ok = False
    if ok:
        return None
    return f"expected {want}, got {got}{_example(values)}"


def _kind(name: str) -> str:
    if name == "str":
        return "str"
    try:
        return np.dtype(name).kind
    except TypeError:
        return "?"


def _example(values: Any) -> str:
    try:
        first = np.asarray(values, dtype=object).ravel()[0]
    except (IndexError, ValueError, TypeError):
        return ""
    return f" (e.g. {first!r})"


def _cast(spec: ColumnSpec, values: Any) -> Any:
    if spec.type in ("str", "object", "category") or spec.type.startswith("datetime64"):
        return values
    if str(getattr(values, "dtype", "")) == spec.type:
        return values
    return values.astype(spec.type)


def _array(data: Any) -> np.ndarray[Any, Any]:
    if _is_frame(data) or type(data).__module__.startswith("pandas"):
        return np.asarray(data.to_numpy())
    if type(data).__module__.startswith("torch"):
        return np.asarray(data.detach().cpu().numpy())
    return np.asarray(data)


def _is_frame(data: Any) -> bool:
    return type(data).__module__.startswith("pandas") and hasattr(data, "columns")


def _frame(data: Any) -> Any:
    import pandas as pd

    return pd.DataFrame(data)
