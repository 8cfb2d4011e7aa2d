"""Entry-point registries. plinth's own built-ins are declared in ``pyproject.toml`` exactly
like a third party's, loaded lazily, and a plugin that fails to load warns and is skipped."""

from __future__ import annotations

import warnings
from functools import cache
from importlib.metadata import entry_points
from typing import Any

GROUPS = {
    "plinth.artifact_backends": "Blob stores by URL scheme (file, s3, ...): a BlobStore class.",
    "plinth.model_flavors": "Model flavors by name (sklearn, onnx, ...): a Flavor class.",
}
"""Every entry-point group plinth reads, and what it expects (checked by the docs test)."""


@cache
def load_group(group: str) -> dict[str, Any]:
    """Name -> loaded object for every entry point of ``group``."""
    loaded: dict[str, Any] = {}
    for point in entry_points(group=group):
        try:
            loaded[point.name] = point.load()
        except Exception as exc:  # a broken plugin must not take the platform down
            warnings.warn(
                f"plinth plugin {point.name!r} ({group}) failed to load: {exc}", stacklevel=2
            )
    return loaded


def blob_store_for(url: str, **options: Any) -> Any:
    """A BlobStore for ``url``: the backend registered for its scheme, else the fsspec one
    (``options`` are the backend's storage options)."""
    from plinth.artifacts.fsspec_backend import FsspecBlobStore

    scheme = url.split("://", 1)[0] if "://" in url else "file"
    backend = load_group("plinth.artifact_backends").get(scheme, FsspecBlobStore)
    return backend(url, **options)
