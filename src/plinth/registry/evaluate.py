"""Standard metrics of a model on labelled data, under the names MLflow's ``evaluate`` uses
(``accuracy_score``, ``f1_score``, ``roc_auc``, ``log_loss``; ``mean_absolute_error``,
``root_mean_squared_error``, ``r2_score``), so runs and gates read the same everywhere.
Computing only: ``plinth.evaluate`` logs them with the data set's digest."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from plinth.errors import InvalidArgument

logger = logging.getLogger("plinth.models")

MODEL_TYPES = ("classifier", "regressor")


def split_targets(data: Any, targets: Any) -> tuple[Any, np.ndarray[Any, Any]]:
    """(features, targets): ``targets`` is a column of ``data`` (by name) or an array."""
    if isinstance(targets, str):
        if not hasattr(data, "columns") or targets not in data.columns:
            raise InvalidArgument.for_field("targets", f"no column {targets!r} in the data")
        return data.drop(columns=[targets]), np.asarray(data[targets])
    values = np.asarray(targets.to_numpy() if hasattr(targets, "to_numpy") else targets)
    rows = len(data) if hasattr(data, "__len__") else None
    if values.ndim != 1 or rows != len(values):
        raise InvalidArgument.for_field(
            "targets", f"expected one target per row ({rows} rows), got shape {values.shape}"
        )
    return data, values


def predictions(model: Any, features: Any, model_type: str) -> tuple[Any, Any]:
    """(predicted values, class probabilities or None) from anything with ``predict``."""
    predicted = model.predict(features)
    if isinstance(predicted, dict):  # several outputs (ONNX): the label, else the first
        predicted = predicted.get("label", next(iter(predicted.values())))
    probabilities = None
    if model_type == "classifier" and hasattr(model, "predict_proba"):
        try:
            probabilities = np.asarray(model.predict_proba(features))
        except Exception as exc:  # a model without probabilities still has the other metrics
            logger.debug("no probabilities: %s", exc)
    values = np.asarray(predicted)
    if values.ndim == 2 and values.shape[1] == 1:
        values = values[:, 0]
    elif values.ndim == 2 and model_type == "classifier":  # one score per class (a network)
        probabilities = values if probabilities is None else probabilities
        values = values.argmax(axis=1)
    return values, probabilities


def compute_metrics(
    model_type: str,
    y_true: Any,
    y_pred: Any,
    probabilities: Any = None,
    classes: Any = None,
) -> dict[str, float]:
    """Metrics for ``model_type``; ``classes`` orders the probability columns (the
    model's ``classes_``; the sorted labels seen when absent)."""
    if model_type not in MODEL_TYPES:
        raise InvalidArgument.for_field("model_type", f"one of {', '.join(MODEL_TYPES)}")
    if len(y_true) == 0:
        raise InvalidArgument.for_field("data", "no rows to evaluate on")
    if model_type == "regressor":
        return _regression(np.asarray(y_true, dtype=float), np.asarray(y_pred, dtype=float))
    return _classification(np.asarray(y_true), np.asarray(y_pred), probabilities, classes)


def _regression(y_true: Any, y_pred: Any) -> dict[str, float]:
    from sklearn import metrics

    mse = float(metrics.mean_squared_error(y_true, y_pred))
    return {
        "mean_absolute_error": float(metrics.mean_absolute_error(y_true, y_pred)),
        "mean_squared_error": mse,
        "root_mean_squared_error": mse**0.5,
        "r2_score": float(metrics.r2_score(y_true, y_pred)),
    }


def _classification(y_true: Any, y_pred: Any, probabilities: Any, classes: Any) -> dict[str, float]:
    from sklearn import metrics

    labels = np.unique(np.concatenate([y_true, y_pred]))
    average = "binary" if len(labels) == 2 else "weighted"
    pos_label = labels[-1] if average == "binary" else 1
    values = {"accuracy_score": float(metrics.accuracy_score(y_true, y_pred))}
    for name, scorer in (
        ("precision_score", metrics.precision_score),
        ("recall_score", metrics.recall_score),
        ("f1_score", metrics.f1_score),
    ):
        values[name] = float(
            scorer(y_true, y_pred, average=average, pos_label=pos_label, zero_division=0)
        )
    if probabilities is not None:
        values.update(_probability_metrics(y_true, probabilities, classes))
    return values


def _probability_metrics(y_true: Any, probabilities: Any, classes: Any) -> dict[str, float]:
    from sklearn import metrics

    columns = np.asarray(classes) if classes is not None else np.unique(y_true)
    if probabilities.ndim != 2 or probabilities.shape[1] != len(columns):
        logger.debug("probabilities do not match the classes: skipped")
        return {}
    values: dict[str, float] = {}
    try:
        values["log_loss"] = float(metrics.log_loss(y_true, probabilities, labels=columns))
        if len(np.unique(y_true)) < 2:  # one class only in the targets: no ROC curve to draw
            return values
        if len(columns) == 2:
            positive = (y_true == columns[1]).astype(int)
            values["roc_auc"] = float(metrics.roc_auc_score(positive, probabilities[:, 1]))
        else:
            values["roc_auc"] = float(
                metrics.roc_auc_score(y_true, probabilities, multi_class="ovr", labels=columns)
            )
    except ValueError as exc:  # labels the probabilities do not cover, for one
        logger.debug("probability metrics skipped: %s", exc)
    return values
