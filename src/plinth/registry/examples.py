"""The input example kept beside a model (``input_example.json``), in a form that comes back
as the same kind of object: a DataFrame, an ndarray of its dtype, a dict or records."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from plinth.errors import InvalidArgument

EXAMPLE_FILE = "input_example.json"


def write_input_example(path: Path, example: Any) -> None:
    path.write_bytes(orjson.dumps(_encode(example), option=orjson.OPT_SERIALIZE_NUMPY))


def _encode(example: Any) -> dict[str, Any]:
    module = type(example).__module__
    if module.startswith("pandas") and hasattr(example, "columns"):
        split = orjson.loads(example.to_json(orient="split", index=False, date_format="iso"))
        dtypes = {str(c): str(t) for c, t in example.dtypes.items()}
        return {
            "type": "dataframe",
            "columns": split["columns"],
            "data": split["data"],
            "dtypes": dtypes,
        }
    if isinstance(example, Mapping):
        return {"type": "dict", "data": {str(k): _plain(v) for k, v in example.items()}}
    if isinstance(example, list) and example and all(isinstance(r, Mapping) for r in example):
        return {
            "type": "records",
            "data": [{str(k): _plain(v) for k, v in r.items()} for r in example],
        }
    if module.startswith("torch"):
        example = example.detach().cpu().numpy()
    array = np.asarray(example.to_numpy() if hasattr(example, "to_numpy") else example)
    if array.dtype.kind not in "biufUS":
        array = array.astype(str)
    return {"type": "ndarray", "dtype": array.dtype.str, "data": array.tolist()}


def _plain(value: Any) -> Any:
    return np.asarray(value).tolist() if not isinstance(value, str) else value


def read_input_example(path: Path) -> Any:
    try:
        encoded = orjson.loads(path.read_bytes())
        kind = encoded["type"]
        if kind == "dataframe":
            import pandas as pd

            frame = pd.DataFrame(encoded["data"], columns=encoded["columns"])
            return frame.astype(_restorable(encoded.get("dtypes", {})))
        if kind in ("dict", "records"):
            return encoded["data"]
        if kind == "ndarray":
            return np.array(encoded["data"], dtype=np.dtype(encoded["dtype"]))
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise InvalidArgument.for_field(path.name, f"not a readable input example: {exc}") from exc
    raise InvalidArgument.for_field(path.name, f"unknown input example type {kind!r}")


def _restorable(dtypes: dict[str, str]) -> dict[str, str]:
    """Plain numpy dtypes come back exactly; others (categories, timezones) as read."""
    out = {}
    for column, name in dtypes.items():
        try:
            np.dtype(name)
        except TypeError:
            continue
        out[column] = name
    return out
