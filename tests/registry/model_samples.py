"""Small data sets and fitted models for the packaging tests (each fitted once per process)."""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np
import pandas as pd


@cache
def iris() -> tuple[pd.DataFrame, np.ndarray[Any, Any]]:
    from sklearn.datasets import load_iris

    frame, target = load_iris(return_X_y=True, as_frame=True)
    frame.columns = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    return frame, target.to_numpy()


@cache
def binary() -> tuple[pd.DataFrame, np.ndarray[Any, Any]]:
    frame, target = iris()
    keep = target < 2
    return frame[keep].reset_index(drop=True), target[keep]


@cache
def forest() -> Any:
    from sklearn.ensemble import RandomForestClassifier

    frame, target = iris()
    return RandomForestClassifier(n_estimators=5, random_state=0).fit(frame, target)


@cache
def logistic() -> Any:
    from sklearn.linear_model import LogisticRegression

    frame, target = iris()
    return LogisticRegression(max_iter=500).fit(frame.to_numpy(), target)


@cache
def regression() -> tuple[Any, np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    from sklearn.linear_model import LinearRegression

    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    y = X @ np.array([1.0, -2.0, 0.5]) + rng.normal(scale=0.1, size=60)
    return LinearRegression().fit(X, y), X, y


def double(values: Any) -> Any:
    """A function of this module: skops does not trust it by default."""
    return values * 2


@cache
def with_custom_step() -> Any:
    """A pipeline whose first step is ``double``: loading it from skops needs trust."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    frame, target = iris()
    model = make_pipeline(FunctionTransformer(func=double), LogisticRegression(max_iter=300))
    return model.fit(frame.to_numpy(), target)
