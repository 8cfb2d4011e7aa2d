"""plinth: one MLOps platform. This module is the Python SDK's public surface::

import plinth

with plinth.start_run(experiment="iris", params={"C": 1.0}) as run:
    for step in range(100):
        plinth.log_metric("loss", 1 / (step + 1))
"""

from plinth.config import Settings
from plinth.connect import Platform, connect
from plinth.entities.models import EvaluationResult, ModelInfo
from plinth.entities.tracking import DatasetInput, MetricHistory, Run, RunStatus
from plinth.errors import (
    AlreadyExists,
    Conflict,
    FilterSyntaxError,
    InvalidArgument,
    NotFound,
    PlinthError,
    Unavailable,
)
from plinth.registry.flavors.python import PythonModel
from plinth.sdk.fluent import (
    ActiveRun,
    active_run,
    end_run,
    flush,
    get_metric_history,
    get_run,
    log_artifact,
    log_artifacts,
    log_input,
    log_metric,
    log_metrics,
    log_param,
    log_params,
    search_runs,
    set_experiment,
    set_tag,
    set_tags,
    set_url,
    start_run,
    sync,
)
from plinth.sdk.models import evaluate, load_model, log_model
from plinth.sdk.registry import register_model

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "active_run",
    "ActiveRun",
    "AlreadyExists",
    "Conflict",
    "connect",
    "DatasetInput",
    "end_run",
    "evaluate",
    "EvaluationResult",
    "FilterSyntaxError",
    "flush",
    "get_metric_history",
    "get_run",
    "InvalidArgument",
    "load_model",
    "log_artifact",
    "log_artifacts",
    "log_input",
    "log_metric",
    "log_metrics",
    "log_model",
    "log_param",
    "log_params",
    "MetricHistory",
    "ModelInfo",
    "NotFound",
    "Platform",
    "PlinthError",
    "PythonModel",
    "register_model",
    "Run",
    "RunStatus",
    "search_runs",
    "set_experiment",
    "set_tag",
    "set_tags",
    "set_url",
    "Settings",
    "start_run",
    "sync",
    "Unavailable",
]
