"""scikit-learn autologging records params, training metrics, data and the model."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sklearn.datasets import load_diabetes, load_iris
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import plinth
import plinth.sklearn
from plinth.sdk import session


@pytest.fixture
def autologging(sdk: str) -> Iterator[None]:
    plinth.sklearn.autolog()
    yield
    plinth.sklearn.autolog(disable=True)


def test_classifier_fit_is_logged(autologging: None) -> None:
    X, y = load_iris(return_X_y=True)
    with plinth.start_run() as run:
        model = make_pipeline(StandardScaler(), LogisticRegression(C=0.5, max_iter=300)).fit(X, y)
    stored = plinth.get_run(run.id)
    assert stored.params["logisticregression__C"] == 0.5
    assert stored.tags["estimator_name"] == "Pipeline"
    expected = {
        "training_accuracy_score",
        "training_f1_score",
        "training_log_loss",
        "training_roc_auc",
    }
    assert expected <= set(stored.metrics)
    assert stored.metrics["training_accuracy_score"].value == pytest.approx(model.score(X, y))
    assert stored.inputs[0].name == "training_data"
    assert stored.inputs[0].num_rows == 150
    files = {a.path for a in session.current().platform.artifacts.list(run.id, "model")}
    assert {"model/model.skops", "model/plinth-model.yaml"} <= files
    loaded = plinth.load_model(f"runs:/{run.id}/model")
    assert loaded.signature is not None
    assert loaded.signature.inputs[0].shape == [-1, 4]  # from the first rows of X
    assert loaded.predict(X[:5]).tolist() == model.predict(X[:5]).tolist()


def test_fit_without_active_run_gets_its_own_run(autologging: None) -> None:
    X, y = load_diabetes(return_X_y=True)
    LinearRegression().fit(X, y)
    assert plinth.active_run() is None
    runs = plinth.search_runs("tags.estimator_name = 'LinearRegression'")
    assert len(runs) == 1
    assert runs[0].status == plinth.RunStatus.FINISHED
    assert "training_r2_score" in runs[0].metrics
    restored = plinth.load_model(f"runs:/{runs[0].id}/model")
    assert restored.predict(X[:3]).tolist() == pytest.approx(
        LinearRegression().fit(X, y).predict(X[:3]).tolist()
    )
