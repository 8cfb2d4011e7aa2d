"""Registry seed data for the model pages' tests: small scikit-learn models logged and
registered through the fluent SDK (as a training script would), gates, approvers and alias
moves through the registry service. The fluent SDK must already point where ``platform``
does (``plinth.sdk.session.configure``)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

import plinth
from plinth.connect import Platform

WEB_ACTOR = "anonymous"
"""Every web request acts as this user until authentication exists."""
ODD_TEXT = "<script>alert(1)</script>"


@dataclass(frozen=True)
class LoggedModel:
    run_id: str
    uri: str
    """``runs:/RUN_ID/model``"""


def features(rows: int = 40) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    return pd.DataFrame(
        {"sepal_length": rng.normal(5.8, 0.8, rows), "petal_width": rng.normal(1.2, 0.7, rows)}
    )


def log_models(accuracies: list[float], run_name: str = "train-iris") -> list[LoggedModel]:
    """One finished run per accuracy, each with a training set and a logged classifier."""
    data = features()
    labels = (data["petal_width"] > 1.2).astype(int)
    logged = []
    for accuracy in accuracies:
        model = LogisticRegression(C=accuracy).fit(data, labels)
        with plinth.start_run(name=run_name, experiment="iris-training") as run:
            plinth.log_input(data, name="iris-train", context="training")
            plinth.log_metrics({"accuracy": accuracy, "log_loss": 1 - accuracy})
            info = plinth.log_model(model, "model", input_example=data.head(3))
        logged.append(LoggedModel(run.id, info.model_uri))
    return logged


def register_all(platform: Platform, name: str, logged: list[LoggedModel]) -> None:
    for item in logged:
        platform.registry.register_model(item.uri, name)


@dataclass(frozen=True)
class SeededModels:
    logged: list[LoggedModel]
    odd_run: str
    open_request: str
    """The id of iris's open promotion request (v3 to @champion, waiting for approval)."""


def seed_models(platform: Platform) -> SeededModels:
    """``iris``: v1..v3, @champion moved v1 -> v2, gates (accuracy, one approval), an open
    request for v3; ``odd``: text that is HTML everywhere it can be; ``empty``: no versions."""
    registry = platform.registry
    logged = log_models([0.81, 0.86, 0.9])
    register_all(platform, "iris", logged)
    registry.promote("iris", 1, "champion", reason="first model")
    registry.promote("iris", 2, "champion", reason="better accuracy")
    registry.set_gates("iris", ["accuracy >= 0.8", "1 approval from ml-lead"])
    registry.add_approver("iris", WEB_ACTOR, "ml-lead")
    result = registry.promote("iris", 3, "champion", reason=ODD_TEXT)
    assert result.request is not None

    [odd] = log_models([0.5], run_name="<b>odd</b>")
    registry.create_model("odd", description=ODD_TEXT, tags={"team": "<i>ml</i>"})
    register_all(platform, "odd", [odd])
    registry.promote("odd", 1, "staging", reason=ODD_TEXT)
    registry.create_model("empty", description="nothing registered yet")
    return SeededModels(logged, odd.run_id, result.request.id)
