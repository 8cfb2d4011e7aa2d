"""Train a few scikit-learn models with tracking, then register the best one, promote it
through a gate and load it back by its alias; `make demo` runs this against a server.

Uses PLINTH_URL when set (a plinth server), else local mode on the data dir.
"""

from __future__ import annotations

import math

import numpy as np
from sklearn.datasets import load_breast_cancer, load_wine
from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import plinth
import plinth.sklearn


def train_by_hand() -> None:
    """A hand-written training loop: params, a metric per epoch, an input data set."""
    X, y = load_wine(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    plinth.set_experiment("wine")
    for learning_rate in (0.05, 0.1, 0.3):
        params = {"learning_rate": learning_rate, "n_estimators": 60, "max_depth": 2}
        with plinth.start_run(name=f"gbm-lr{learning_rate}", params=params) as run:
            plinth.log_input(X_train, name="wine-train", source="sklearn.datasets.load_wine")
            model = GradientBoostingClassifier(random_state=0, **params)
            model.fit(X_train, y_train)
            for epoch, proba in enumerate(model.staged_predict_proba(X_test)):
                loss = -np.mean(np.log(proba[np.arange(len(y_test)), y_test] + 1e-12))
                plinth.log_metric("val_loss", float(loss), step=epoch)
                accuracy = float(np.mean(proba.argmax(1) == y_test))
                plinth.log_metric("val_accuracy", accuracy, step=epoch)
            plinth.log_metric("test_accuracy", float(model.score(X_test, y_test)))
            plinth.set_tag("family", "boosting")
        print(f"  run {run.name} ({run.id}): test accuracy {model.score(X_test, y_test):.3f}")


def train_with_autolog() -> None:
    """scikit-learn autologging: params, training metrics and the model, with no logging code."""
    X, y = load_breast_cancer(return_X_y=True)
    plinth.set_experiment("breast-cancer")
    plinth.sklearn.autolog()
    models = {
        "logistic": make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=500)),
        "forest": RandomForestClassifier(n_estimators=50, random_state=0),
    }
    for name, model in models.items():
        with plinth.start_run(name=name) as run:
            model.fit(X, y)
            for step in range(200):  # a long, smooth curve to look at in the UI
                plinth.log_metric("demo/cosine", math.cos(step / 20) * math.exp(-step / 150))
        print(f"  run {run.name} ({run.id}) autologged")
    plinth.sklearn.autolog(disable=True)


def register_the_best(run_id: str) -> None:
    """Package the best run's model, register it, promote it through a gate, load it back."""
    X, y = load_wine(return_X_y=True, as_frame=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    best = plinth.get_run(run_id)  # params come back typed: 0.1, 60, 2
    model = GradientBoostingClassifier(random_state=0, **best.params).fit(X_train, y_train)
    with plinth.start_run(name="wine-candidate", experiment_id=best.experiment_id) as run:
        plinth.evaluate(model, X_test, y_test, model_type="classifier")
        info = plinth.log_model(model, input_example=X_test.head(3))
    version = plinth.register_model(info.model_uri, "wine-classifier")
    registry = plinth.connect().registry
    registry.set_gates("wine-classifier", ["accuracy_score >= 0.9", "signature compatible"])
    result = registry.promote("wine-classifier", version.version, "champion", reason="demo")
    gates = ", ".join(f"{g.gate}: {'ok' if g.passed else g.reason}" for g in result.gate_results)
    print(f"registered wine-classifier v{version.version} from run {run.id} ({gates})")
    champion = plinth.load_model("models:/wine-classifier@champion")
    predicted = champion.predict(X_test.head(5))
    print(f"models:/wine-classifier@champion predicts {[int(p) for p in predicted]} for 5 wines")


def main() -> None:
    print("training with tracking...")
    train_by_hand()
    train_with_autolog()
    best = plinth.search_runs(
        "metrics.test_accuracy > 0.5",
        order_by=["metrics.test_accuracy DESC"],
        experiment_names=["wine"],
        max_results=1,
    )
    if best:
        accuracy = best[0].metrics["test_accuracy"].value
        print(f"best wine run: {best[0].name}, test accuracy {accuracy:.3f}")
        register_the_best(best[0].id)


if __name__ == "__main__":
    main()
