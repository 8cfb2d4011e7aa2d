"""``evaluate`` computes standard metrics and logs them with the data set's digest."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics

import plinth
from plinth.errors import InvalidArgument
from plinth.registry.evaluate import compute_metrics
from tests.registry.model_samples import binary, forest, iris, regression


def test_binary_classifier_metrics_match_sklearn(sdk: str) -> None:
    from sklearn.linear_model import LogisticRegression

    frame, target = binary()
    model = LogisticRegression(max_iter=300).fit(frame[["sepal_length"]], target)
    result = plinth.evaluate(model, frame[["sepal_length"]], target, "classifier")
    predicted = model.predict(frame[["sepal_length"]])
    probabilities = model.predict_proba(frame[["sepal_length"]])
    assert result.metrics == pytest.approx(
        {
            "accuracy_score": metrics.accuracy_score(target, predicted),
            "precision_score": metrics.precision_score(target, predicted),
            "recall_score": metrics.recall_score(target, predicted),
            "f1_score": metrics.f1_score(target, predicted),
            "roc_auc": metrics.roc_auc_score(target, probabilities[:, 1]),
            "log_loss": metrics.log_loss(target, probabilities),
        }
    )
    run = plinth.get_run(result.run_id)
    assert run.status == plinth.RunStatus.FINISHED
    assert run.metrics["roc_auc"].value == pytest.approx(result.metrics["roc_auc"])
    assert run.inputs[0].context == "evaluation"
    assert run.inputs[0].digest == result.dataset_digest
    assert run.tags["evaluation.dataset_digest"] == result.dataset_digest


def test_a_logged_model_is_evaluated_by_uri_in_the_active_run(sdk: str) -> None:
    frame, target = iris()
    info = plinth.log_model(forest())
    data = frame.assign(species=target)
    with plinth.start_run() as run:
        result = plinth.evaluate(info.model_uri, data, "species", prefix="val_")
    assert result.run_id == run.id
    assert set(result.metrics) == {
        "val_accuracy_score",
        "val_precision_score",
        "val_recall_score",
        "val_f1_score",
        "val_roc_auc",
        "val_log_loss",
    }
    assert result.metrics["val_accuracy_score"] == pytest.approx(forest().score(frame, target))
    stored = plinth.get_run(run.id)
    assert stored.tags["evaluation.model_uri"] == info.model_uri
    assert set(result.metrics) <= set(stored.metrics)


def test_regressor_metrics(sdk: str) -> None:
    model, X, y = regression()
    result = plinth.evaluate(model, X, y, "regressor", dataset_name="holdout")
    predicted = model.predict(X)
    assert result.metrics["mean_absolute_error"] == pytest.approx(
        metrics.mean_absolute_error(y, predicted)
    )
    assert result.metrics["root_mean_squared_error"] == pytest.approx(
        metrics.mean_squared_error(y, predicted) ** 0.5
    )
    assert result.metrics["r2_score"] == pytest.approx(metrics.r2_score(y, predicted))
    assert plinth.get_run(result.run_id).inputs[0].name == "holdout"


def test_the_digest_names_the_data_and_its_labels(sdk: str) -> None:
    model, X, y = regression()
    first = plinth.evaluate(model, X, y, "regressor")
    again = plinth.evaluate(model, X.copy(), y.copy(), "regressor")
    relabelled = plinth.evaluate(model, X, y + 1, "regressor")
    assert first.dataset_digest == again.dataset_digest
    assert first.dataset_digest != relabelled.dataset_digest


def test_bad_arguments_are_named() -> None:
    model, X, y = regression()
    with pytest.raises(InvalidArgument, match="model_type"):
        compute_metrics("ranker", y, y)
    with pytest.raises(InvalidArgument) as caught:
        plinth.evaluate(model, X, y[:5], "regressor")
    assert caught.value.errors[0].field == "targets"
    frame, _ = iris()
    with pytest.raises(InvalidArgument, match="no column 'label'"):
        plinth.evaluate(forest(), frame, "label")


def test_single_class_targets_skip_roc_auc() -> None:
    values = compute_metrics(
        "classifier", np.array([1, 1]), np.array([1, 1]), np.array([[0.2, 0.8], [0.1, 0.9]]), [0, 1]
    )
    assert values["accuracy_score"] == 1.0
    assert "roc_auc" not in values
