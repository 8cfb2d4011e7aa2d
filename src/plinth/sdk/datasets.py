"""Describing a data set for ``log_input``: digest, schema and size from the data itself."""

from __future__ import annotations

import hashlib
from typing import Any

from plinth.entities.tracking import DatasetInput


def describe_dataset(
    data: Any,
    *,
    name: str,
    source: str | None = None,
    context: str = "training",
    digest: str | None = None,
    schema: dict[str, Any] | None = None,
) -> DatasetInput:
    """A ``DatasetInput`` for a pandas DataFrame/Series, a numpy array, or (with ``digest``)
    anything else. The digest hashes values, column names and dtypes, so two runs that read
    the same data get the same digest."""
    num_rows: int | None = None
    if data is not None and (digest is None or schema is None):
        computed_digest, computed_schema, num_rows = _inspect(data)
        digest = digest or computed_digest
        schema = schema if schema is not None else computed_schema
    if digest is None:
        raise ValueError("pass data (DataFrame or ndarray) or an explicit digest")
    return DatasetInput(
        name=name,
        digest=digest,
        schema_=schema,
        source=source,
        context=context,
        num_rows=num_rows,
    )


def _inspect(data: Any) -> tuple[str, dict[str, Any], int | None]:
    hasher = hashlib.sha256()
    module = type(data).__module__
    if module.startswith("pandas"):
        import pandas as pd

        frame = data.to_frame() if isinstance(data, pd.Series) else data
        hasher.update(pd.util.hash_pandas_object(frame, index=True).values.tobytes())
        columns = {str(c): str(t) for c, t in frame.dtypes.items()}
        hasher.update(repr(sorted(columns.items())).encode())
        return hasher.hexdigest(), {"columns": columns}, len(frame)
    import numpy as np

    array = np.ascontiguousarray(np.asarray(data))
    hasher.update(array.tobytes())
    hasher.update(f"{array.dtype}{array.shape}".encode())
    schema = {"dtype": str(array.dtype), "shape": list(array.shape)}
    return hasher.hexdigest(), schema, (array.shape[0] if array.ndim else None)
