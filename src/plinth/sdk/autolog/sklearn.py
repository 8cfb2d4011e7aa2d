"""``plinth.sklearn.autolog()``: every scikit-learn ``fit`` records a run.

The outermost ``fit`` (a Pipeline's, not its steps') logs the estimator's params, its
training metrics under MLflow's names (``training_accuracy_score``, ...), the training data
set's digest, and the fitted model, packaged by ``plinth.log_model`` into ``model/``.
Without an active run, each fit gets its own run, ended when the fit returns.
"""

from __future__ import annotations

import functools
import logging
import threading
from typing import Any

import numpy as np

from plinth.sdk import fluent

logger = logging.getLogger("plinth.autolog")
_state = threading.local()
_patched: dict[type, Any] = {}
_options: dict[str, bool] = {"log_models": True, "log_datasets": True}


def autolog(*, log_models: bool = True, log_datasets: bool = True, disable: bool = False) -> None:
    """Turn scikit-learn autologging on (or off with ``disable=True``)."""
    if disable:
        for cls, original in _patched.items():
            setattr(cls, "fit", original)  # noqa: B010
        _patched.clear()
        return
    _options.update(log_models=log_models, log_datasets=log_datasets)
    from sklearn.pipeline import Pipeline
    from sklearn.utils import all_estimators

    for estimator_class in [cls for _, cls in all_estimators()] + [Pipeline]:
        # patch the class that defines fit (RandomForestClassifier inherits BaseForest's)
        owner = next((c for c in estimator_class.__mro__ if "fit" in c.__dict__), None)
        if owner is not None and owner not in _patched:
            _patched[owner] = owner.__dict__["fit"]
            setattr(owner, "fit", _wrap(owner.__dict__["fit"]))  # noqa: B010


def _wrap(original: Any) -> Any:
    @functools.wraps(original)
    def fit(self: Any, *args: Any, **kwargs: Any) -> Any:
        depth = getattr(_state, "depth", 0)
        if depth > 0:  # a step inside a pipeline or a search: the outer fit logs
            return original(self, *args, **kwargs)
        _state.depth = depth + 1
        try:
            return _logged_fit(original, self, *args, **kwargs)
        finally:
            _state.depth = depth

    return fit


def _logged_fit(original: Any, estimator: Any, *args: Any, **kwargs: Any) -> Any:
    owns_run = fluent.active_run() is None
    if owns_run:
        fluent.start_run(name=type(estimator).__name__.lower())
    try:
        result = original(estimator, *args, **kwargs)
        X = args[0] if args else kwargs.get("X")
        y = args[1] if len(args) > 1 else kwargs.get("y")
        _log_fitted(estimator, X, y)
    except BaseException:
        if owns_run:
            fluent.end_run("failed")
        raise
    if owns_run:
        fluent.end_run()
    return result


def _log_fitted(estimator: Any, X: Any, y: Any) -> None:
    try:
        fluent.log_params(_loggable_params(estimator))
    except Exception as exc:  # e.g. a conflicting param on a resumed run: do not fail the fit
        logger.warning("autolog could not log params: %s", exc)
    fluent.set_tags(
        {
            "estimator_name": type(estimator).__name__,
            "estimator_class": f"{type(estimator).__module__}.{type(estimator).__qualname__}",
        }
    )
    if y is not None:
        fluent.log_metrics(training_metrics(estimator, X, y), step=0)
    if _options["log_datasets"]:
        try:
            fluent.log_input(X, name="training_data", context="training")
        except Exception as exc:
            logger.warning("autolog could not describe the training data: %s", exc)
    if _options["log_models"]:
        _log_model(estimator, X)


def _loggable_params(estimator: Any) -> dict[str, Any]:
    params = {}
    for key, value in estimator.get_params(deep=True).items():
        if isinstance(value, str | int | float | bool) or value is None:
            params[key] = value
        else:
            params[key] = repr(value)[:500]
    return params


def training_metrics(estimator: Any, X: Any, y: Any) -> dict[str, float]:
    """Scores on the training data, named as MLflow's autologging names them."""
    from sklearn import metrics
    from sklearn.base import is_classifier, is_regressor

    values: dict[str, float] = {}
    try:
        predicted = estimator.predict(X)
    except Exception:  # clusterers, transformers: no predictions to score
        return values
    if is_classifier(estimator):
        average = "binary" if len(np.unique(np.asarray(y))) == 2 else "weighted"
        values["training_accuracy_score"] = metrics.accuracy_score(y, predicted)
        for name, scorer in (
            ("precision", metrics.precision_score),
            ("recall", metrics.recall_score),
            ("f1", metrics.f1_score),
        ):
            values[f"training_{name}_score"] = scorer(
                y, predicted, average=average, zero_division=0
            )
        if hasattr(estimator, "predict_proba"):
            try:
                probabilities = estimator.predict_proba(X)
                values["training_log_loss"] = metrics.log_loss(y, probabilities)
                if average == "binary":
                    values["training_roc_auc"] = metrics.roc_auc_score(y, probabilities[:, 1])
                else:
                    values["training_roc_auc"] = metrics.roc_auc_score(
                        y, probabilities, multi_class="ovr"
                    )
            except Exception as exc:
                logger.debug("probability metrics skipped: %s", exc)
    elif is_regressor(estimator):
        mse = metrics.mean_squared_error(y, predicted)
        values["training_mean_squared_error"] = mse
        values["training_root_mean_squared_error"] = mse**0.5
        values["training_mean_absolute_error"] = metrics.mean_absolute_error(y, predicted)
        values["training_r2_score"] = metrics.r2_score(y, predicted)
    try:
        values["training_score"] = float(estimator.score(X, y))
    except Exception as exc:
        logger.debug("score skipped: %s", exc)
    return {k: float(v) for k, v in values.items()}


def _log_model(estimator: Any, X: Any) -> None:
    """A packaged model (``plinth.log_model``: skops, signature from the first rows of X)."""
    from plinth.sdk.models import log_model

    example = _example(X)
    try:
        log_model(estimator, "model", input_example=example)
    except Exception as exc:  # never fail the user's fit because the model could not be logged
        logger.warning("autolog could not log the model: %s", exc)


def _example(X: Any) -> Any:
    """The first rows of dense training data (sparse matrices get no example)."""
    if hasattr(X, "iloc"):
        return X.iloc[:5]
    if isinstance(X, np.ndarray):
        return X[:5]
    return None
