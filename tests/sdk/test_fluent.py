"""The active-run API, in local mode and against a server."""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np
import pytest

import plinth
from plinth.sdk import session


def test_start_run_logs_everything_and_finishes(sdk: str, tmp_path: Path) -> None:
    artifact = tmp_path / "notes.txt"
    artifact.write_text("hello")
    folder = tmp_path / "plots"
    (folder / "deep").mkdir(parents=True)
    (folder / "a.csv").write_text("x,y\n1,2\n")
    (folder / "deep" / "b.json").write_text("{}")
    with plinth.start_run(experiment="fluent", params={"lr": 0.1}, tags={"team": "cv"}) as run:
        assert len(run.id) == 32
        plinth.log_param("layers", 3)
        plinth.log_params({"optimizer": "adam", "dropout": None})
        plinth.set_tag("stage", "dev")
        for _ in range(5):
            plinth.log_metric("loss", 0.5)
        plinth.log_metric("acc", 0.9, step=10)
        plinth.log_metrics({"f1": 0.8, "auc": float("nan")})
        plinth.log_artifact(artifact)
        assert plinth.log_artifacts(folder, "plots") == 2
        plinth.log_input(np.arange(12).reshape(4, 3), name="features", source="generated")
    stored = plinth.get_run(run.id)
    assert stored.status == plinth.RunStatus.FINISHED
    assert stored.end_time is not None
    assert stored.params == {"lr": 0.1, "layers": 3, "optimizer": "adam", "dropout": None}
    assert stored.tags == {"team": "cv", "stage": "dev"}
    assert stored.metrics["loss"].step == 4  # steps count up per key without an explicit step
    assert stored.metrics["acc"].step == 10
    assert math.isnan(stored.metrics["auc"].value)
    assert stored.inputs[0].name == "features"
    assert stored.inputs[0].num_rows == 4
    assert stored.source.script is not None
    paths = {a.path for a in session.current().platform.artifacts.list(run.id)}
    assert paths == {"notes.txt", "plots"}
    deep = session.current().platform.artifacts.list(run.id, "plots/deep")
    assert [a.path for a in deep] == ["plots/deep/b.json"]
    content = b"".join(session.current().platform.artifacts.download(run.id, "notes.txt"))
    assert content == b"hello"


def test_exception_marks_run_failed(sdk: str) -> None:
    with pytest.raises(RuntimeError), plinth.start_run() as run:
        raise RuntimeError("boom")
    assert plinth.get_run(run.id).status == plinth.RunStatus.FAILED
    assert plinth.active_run() is None


def test_nested_runs_record_their_parent(sdk: str) -> None:
    with plinth.start_run(name="outer") as outer:
        with pytest.raises(plinth.InvalidArgument):
            plinth.start_run()
        with plinth.start_run(name="inner", nested=True) as inner:
            assert plinth.active_run() is inner
        assert plinth.active_run() is outer
    assert plinth.get_run(inner.id).parent_run_id == outer.id


def test_conflicting_param_raises_at_the_call(sdk: str) -> None:
    with plinth.start_run():
        plinth.log_param("lr", 0.1)
        with pytest.raises(plinth.Conflict):
            plinth.log_param("lr", 0.2)


def test_every_buffered_point_is_stored_by_run_end(sdk: str) -> None:
    n = 50_000
    with plinth.start_run() as run:
        for i in range(n):
            plinth.log_metric("m", float(i))
    history = plinth.get_metric_history(run.id, "m")
    assert history.total_points == n
    assert history.values == [float(i) for i in range(n)]


def test_search_and_history_through_the_sdk(sdk: str) -> None:
    plinth.set_experiment("searching")
    for model, acc in (("xgb", 0.95), ("rf", 0.7), ("xgb", 0.8)):
        with plinth.start_run(params={"model": model}):
            plinth.log_metric("acc", acc)
    found = plinth.search_runs(
        'metrics.acc > 0.75 and params.model = "xgb"',
        order_by=["metrics.acc DESC"],
        experiment_names=["searching"],
    )
    assert [r.metrics["acc"].value for r in found] == [0.95, 0.8]
    assert len(plinth.search_runs(experiment_names=["searching"], max_results=2)) == 2


def test_resume_a_run_by_id(sdk: str) -> None:
    with plinth.start_run() as run:
        plinth.log_metric("m", 1.0)
    with plinth.start_run(run.id):
        plinth.log_metric("m", 2.0, step=1)
    stored = plinth.get_run(run.id)
    assert stored.status == plinth.RunStatus.FINISHED
    assert stored.metrics["m"].value == 2.0


def test_log_metric_without_a_run_is_a_clear_error(sdk: str) -> None:
    with pytest.raises(plinth.InvalidArgument, match="no active run"):
        plinth.log_metric("m", 1.0)


def test_bad_metric_key_is_refused_at_the_call(sdk: str) -> None:
    with plinth.start_run(), pytest.raises(plinth.InvalidArgument):
        plinth.log_metric("bad key!", 1.0)


def test_system_metrics_are_sampled(tmp_path: Path) -> None:
    session.configure(data_dir=tmp_path, system_metrics=True, system_metrics_interval=0.05)
    try:
        with plinth.start_run() as run:
            time.sleep(0.3)
        keys = set(plinth.get_run(run.id).metrics)
        assert {"system/cpu_percent", "system/memory_used_mb", "system/disk_read_mb"} <= keys
        assert {"system/network_receive_mb", "system/memory_percent"} <= keys
        assert plinth.get_metric_history(run.id, "system/cpu_percent").total_points >= 2
        with plinth.start_run(system_metrics=False) as quiet:
            time.sleep(0.1)
        assert not any(k.startswith("system/") for k in plinth.get_run(quiet.id).metrics)
    finally:
        session.configure()


def test_log_artifacts_refuses_a_symlink_out_of_the_folder(sdk: str, tmp_path: Path) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "ok.txt").write_text("fine")
    secret = tmp_path / "secret.txt"
    secret.write_text("do not upload")
    (folder / "leak.txt").symlink_to(secret)
    with plinth.start_run(), pytest.raises(plinth.InvalidArgument, match="outside"):
        plinth.log_artifacts(folder)


def test_steps_count_on_whether_the_run_is_named_or_implied(sdk: str) -> None:
    with plinth.start_run() as run:
        plinth.log_metric("m", 1.0)
        plinth.log_metric("m", 2.0, run_id=run.id)
        plinth.log_metric("m", 3.0)
    history = plinth.get_metric_history(run.id, "m")
    assert history.total_points == 3
    assert list(history.steps) == [0, 1, 2]
