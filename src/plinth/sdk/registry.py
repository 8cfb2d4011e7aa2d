"""The registry in the fluent SDK: ``plinth.register_model("runs:/ID/model", "NAME")``."""

from __future__ import annotations

from plinth.entities.registry import ModelVersion
from plinth.sdk import fluent, session


def register_model(model_uri: str, name: str, *, description: str = "") -> ModelVersion:
    """Register the model logged at ``runs:/RUN_ID/PATH`` as the next version of ``name``
    (created on first registration). The version snapshots the run's latest metrics, so
    buffered metrics are flushed first."""
    fluent.flush()
    return session.current().platform.registry.register_model(
        model_uri, name, description=description
    )
