"""The tracking store contract: one body per behaviour, run on SQLite, PostgreSQL and REST."""

from __future__ import annotations

import math

import pytest

from plinth.connect import Platform
from plinth.entities.common import new_id
from plinth.entities.tracking import DatasetInput, RunStatus, RunUpdate, ViewType
from plinth.errors import AlreadyExists, Conflict, FilterSyntaxError, InvalidArgument, NotFound
from plinth.tracking.search import quote


def _columns(keys: list[str], values: list[object], steps: list[int]) -> dict[str, list[object]]:
    return {"keys": keys, "values": values, "steps": steps, "timestamps": [1000 + s for s in steps]}


def test_experiment_lifecycle(platform: Platform) -> None:
    tracking = platform.tracking
    created = tracking.create_experiment("exp-a", description="first", tags={"team": "cv"})
    assert created.name == "exp-a"
    assert created.tags == {"team": "cv"}
    assert tracking.store.get_experiment(created.id) == created
    assert tracking.store.get_experiment_by_name("default", "exp-a").id == created.id
    with pytest.raises(AlreadyExists):
        tracking.create_experiment("exp-a")
    tracking.store.delete_experiment(created.id)
    active = tracking.store.list_experiments("default").items
    assert created.id not in [e.id for e in active]
    deleted = tracking.store.list_experiments("default", ViewType.DELETED).items
    assert [e.id for e in deleted] == [created.id]
    tracking.store.restore_experiment(created.id)
    assert tracking.store.get_experiment(created.id).lifecycle_stage == "active"


def test_experiment_listing_paginates(platform: Platform) -> None:
    tracking = platform.tracking
    tracking.store.create_project("paged")
    names = {f"e{i}" for i in range(5)}
    for name in names:
        tracking.create_experiment(name, project="paged")
    seen: list[str] = []
    token = None
    while True:
        page = tracking.store.list_experiments("paged", max_results=2, page_token=token)
        seen += [e.name for e in page.items]
        token = page.next_page_token
        if token is None:
            break
    assert sorted(seen) == sorted(names)


def test_unknown_ids_are_not_found(platform: Platform) -> None:
    store = platform.tracking.store
    with pytest.raises(NotFound):
        store.get_run(new_id())
    with pytest.raises(NotFound):
        store.get_experiment(new_id())
    with pytest.raises(NotFound):
        platform.tracking.log_metrics(new_id(), {"a": 1.0})
    with pytest.raises(NotFound):
        store.get_experiment_by_name("default", "missing")


def test_run_keeps_its_fields_and_typed_params(platform: Platform) -> None:
    tracking = platform.tracking
    parent = tracking.create_run(name="parent")
    params = {"lr": 0.01, "layers": 3, "name": "xgb", "flag": True, "none": None, "grid": [1, 2]}
    run = tracking.create_run(
        name="child",
        parent_run_id=parent.id,
        user="ada",
        source={"script": "/x/train.py", "git_commit": "abc123", "git_dirty": True},
        params=params,
        tags={"team": "nlp"},
        notes="hello",
    )
    fetched = tracking.store.get_run(run.id)
    assert fetched.params == params
    assert type(fetched.params["layers"]) is int
    assert type(fetched.params["lr"]) is float
    assert fetched.parent_run_id == parent.id
    assert fetched.user == "ada"
    assert fetched.notes == "hello"
    assert fetched.source.git_commit == "abc123"
    assert fetched.source.git_dirty is True
    assert fetched.status == RunStatus.RUNNING
    assert fetched.end_time is None
    assert len(fetched.id) == 32
    assert int(fetched.id, 16) >= 0


def test_param_relog_same_value_is_fine_different_value_conflicts(platform: Platform) -> None:
    tracking = platform.tracking
    run = tracking.create_run(params={"lr": 0.1})
    tracking.log_params(run.id, {"lr": 0.1})
    with pytest.raises(Conflict) as raised:
        tracking.log_params(run.id, {"lr": 0.2, "new": 1})
    assert raised.value.errors[0].field == "params.lr"
    assert "new" not in tracking.store.get_run(run.id).params  # rejected batch wrote nothing
    with pytest.raises(Conflict):
        tracking.log_params(run.id, {"lr": "0.1"})  # a string is not the float 0.1


def test_metrics_keep_nan_and_infinities(platform: Platform) -> None:
    tracking = platform.tracking
    run = tracking.create_run()
    values = [1.5, float("nan"), float("inf"), float("-inf"), -0.0]
    tracking.log_batch(run.id, metrics=_columns(["m"] * 5, values, [0, 1, 2, 3, 4]))
    history = tracking.get_metric_history(run.id, "m")
    assert history.steps == [0, 1, 2, 3, 4]
    assert history.values[0] == 1.5
    assert math.isnan(history.values[1])
    assert history.values[2] == math.inf
    assert history.values[3] == -math.inf
    assert tracking.store.get_run(run.id).metrics["m"].value == 0.0


def test_latest_metric_is_the_highest_step(platform: Platform) -> None:
    tracking = platform.tracking
    run = tracking.create_run()
    tracking.log_batch(run.id, metrics=_columns(["acc", "acc", "loss"], [0.5, 0.9, 2.0], [1, 5, 0]))
    tracking.log_batch(run.id, metrics=_columns(["acc"], [0.1], [3]))  # older step: not latest
    latest = tracking.store.get_run(run.id).metrics
    assert latest["acc"].value == 0.9
    assert latest["acc"].step == 5
    assert latest["loss"].value == 2.0


def test_batch_with_same_id_is_applied_once(platform: Platform) -> None:
    tracking = platform.tracking
    run = tracking.create_run()
    batch = _columns(["m"] * 3, [1.0, 2.0, 3.0], [0, 1, 2])
    first = tracking.log_batch(run.id, metrics=batch, batch_id="batch-0001")
    second = tracking.log_batch(run.id, metrics=batch, batch_id="batch-0001")
    assert first.applied
    assert not second.applied
    assert tracking.get_metric_history(run.id, "m").total_points == 3


def test_malformed_batches_are_refused_whole(platform: Platform) -> None:
    tracking = platform.tracking
    run = tracking.create_run()
    with pytest.raises(InvalidArgument) as raised:
        tracking.log_batch(
            run.id,
            metrics={"keys": ["a", "b"], "values": [1.0], "steps": [0, 1], "timestamps": [1, 2]},
        )
    assert any("values" in e.field for e in raised.value.errors)
    with pytest.raises(InvalidArgument) as raised:
        tracking.log_batch(run.id, metrics=_columns(["bad key!"], [1.0], [0]), params={"ok": 1})
    assert any("keys" in e.field for e in raised.value.errors)
    with pytest.raises(InvalidArgument):
        tracking.log_batch(run.id, metrics=_columns(["m"], ["not a number"], [0]))
    with pytest.raises(InvalidArgument) as raised:
        tracking.log_params(run.id, {"big": "x" * 9000})
    assert any("params" in e.field for e in raised.value.errors)
    fetched = tracking.store.get_run(run.id)
    assert fetched.params == {}
    assert fetched.metrics == {}


def test_end_run_and_status_update(platform: Platform) -> None:
    tracking = platform.tracking
    run = tracking.create_run()
    tracking.log_batch(run.id, update=RunUpdate(status=RunStatus.FAILED))
    ended = tracking.store.get_run(run.id)
    assert ended.status == RunStatus.FAILED
    assert ended.end_time is not None
    renamed = tracking.store.update_run(run.id, RunUpdate(name="renamed", notes="n"))
    assert renamed.name == "renamed"
    assert renamed.status == RunStatus.FAILED


def test_deleted_runs_leave_search_and_refuse_logging(platform: Platform) -> None:
    tracking = platform.tracking
    experiment = tracking.create_experiment("deletions")
    run = tracking.create_run(experiment_id=experiment.id)
    tracking.store.delete_run(run.id)
    assert tracking.search_runs(experiment_ids=[experiment.id]).items == []
    deleted = tracking.search_runs(experiment_ids=[experiment.id], view="deleted").items
    assert [r.id for r in deleted] == [run.id]
    with pytest.raises(Conflict):
        tracking.log_metrics(run.id, {"a": 1.0})
    tracking.store.restore_run(run.id)
    assert [r.id for r in tracking.search_runs(experiment_ids=[experiment.id]).items] == [run.id]


def test_create_run_with_client_id_is_idempotent(platform: Platform) -> None:
    tracking = platform.tracking
    run_id = new_id()
    first = tracking.create_run(run_id=run_id, name="once")
    again = tracking.create_run(run_id=run_id, name="once")
    assert first.id == again.id == run_id


def test_inputs_are_recorded_once(platform: Platform) -> None:
    tracking = platform.tracking
    run = tracking.create_run()
    dataset = DatasetInput(
        name="iris",
        digest="d1",
        schema={"columns": {"a": "float64"}},
        source="sklearn",
        num_rows=150,
    )
    tracking.log_inputs(run.id, [dataset, dataset])
    tracking.log_inputs(run.id, [dataset.model_copy(update={"context": "evaluation"})])
    inputs = tracking.store.get_run(run.id).inputs
    assert sorted(i.context for i in inputs) == ["evaluation", "training"]
    assert inputs[0].schema_ == {"columns": {"a": "float64"}}
    assert inputs[0].num_rows == 150


def _search_fixture(platform: Platform) -> tuple[str, dict[str, str]]:
    tracking = platform.tracking
    experiment = tracking.create_experiment("search")
    ids = {}
    specs = [
        ("a", {"model": "xgb", "lr": 0.1}, {"team": "cv"}, {"acc": 0.95, "loss": 0.1}),
        ("b", {"model": "xgb", "lr": 0.01}, {"team": "nlp"}, {"acc": 0.97}),
        ("c", {"model": "rf", "lr": 0.1}, {"team": "cv"}, {"acc": 0.5}),
        ("d", {"model": "xgb", "lr": 0.5}, {}, {}),
    ]
    for name, params, tags, metrics in specs:
        run = tracking.create_run(experiment_id=experiment.id, name=name, params=params, tags=tags)
        if metrics:
            tracking.log_metrics(run.id, metrics)
        ids[name] = run.id
    tracking.end_run(ids["a"])
    return experiment.id, ids


def _names(
    platform: Platform, experiment_id: str, filter_text: str, order: list[str] | None = None
) -> list[str]:
    page = platform.tracking.search_runs(
        experiment_ids=[experiment_id], filter=filter_text, order_by=order or []
    )
    return [r.name for r in page.items]


def test_search_filters_and_orders(platform: Platform) -> None:
    exp, _ = _search_fixture(platform)
    assert _names(
        platform, exp, 'metrics.acc > 0.9 and params.model = "xgb"', ["metrics.acc DESC"]
    ) == ["b", "a"]
    assert _names(platform, exp, "tags.team != 'nlp'", ["name"]) == ["a", "c"]
    assert _names(platform, exp, 'status = "finished"') == ["a"]
    assert _names(platform, exp, "params.lr = '0.1'", ["name"]) == ["a", "c"]
    assert _names(platform, exp, "params.lr >= 0.1", ["params.lr DESC", "name"]) == ["d", "a", "c"]
    assert _names(platform, exp, "metrics.loss is null", ["name"]) == ["b", "c", "d"]
    assert _names(
        platform, exp, "params.model in ('rf', 'lgbm') or metrics.acc < 0.6", ["name"]
    ) == ["c"]
    assert _names(platform, exp, "name like 'a%' or name = 'd'", ["name DESC"]) == ["d", "a"]
    assert _names(platform, exp, "", ["metrics.acc ASC"]) == ["c", "a", "b", "d"]  # missing last


def test_search_by_input_data_sets(platform: Platform) -> None:
    exp, ids = _search_fixture(platform)
    tracking = platform.tracking
    awkward = "it's a \\ name"
    tracking.log_inputs(ids["a"], [DatasetInput(name="iris", digest="d1")])
    tracking.log_inputs(ids["b"], [DatasetInput(name="iris", digest="d2", context="evaluation")])
    tracking.log_inputs(ids["c"], [DatasetInput(name=awkward, digest="d1")])
    assert _names(platform, exp, "datasets.digest = 'd1'", ["name"]) == ["a", "c"]
    assert _names(platform, exp, "datasets.name = 'iris'", ["name"]) == ["a", "b"]
    assert _names(platform, exp, f"datasets.name = {quote(awkward)}") == ["c"]
    assert _names(platform, exp, "dataset.context = 'evaluation'") == ["b"]
    assert _names(platform, exp, "datasets.digest in ('d2', 'zz')") == ["b"]
    assert _names(platform, exp, "datasets.name is null") == ["d"]
    assert _names(platform, exp, "not datasets.name like 'ir%'", ["name"]) == ["c", "d"]
    with pytest.raises(FilterSyntaxError, match="unknown data set field"):
        tracking.search_runs(filter="datasets.rows > 3")
    with pytest.raises(InvalidArgument, match="order by a data set"):
        tracking.search_runs(order_by=["datasets.name"])
    with pytest.raises(InvalidArgument):
        tracking.search_runs(filter="datasets.digest = 12")


def test_search_paginates_without_overlap(platform: Platform) -> None:
    exp, ids = _search_fixture(platform)
    seen: list[str] = []
    token = None
    while True:
        page = platform.tracking.search_runs(
            experiment_ids=[exp], order_by=["name"], max_results=3, page_token=token
        )
        seen += [r.id for r in page.items]
        token = page.next_page_token
        if token is None:
            break
    assert sorted(seen) == sorted(ids.values())
    assert len(seen) == len(set(seen))


def test_malformed_filter_names_the_position(platform: Platform) -> None:
    with pytest.raises(FilterSyntaxError) as raised:
        platform.tracking.search_runs(filter="metrics.acc > 0.5 and params.x =")
    assert raised.value.errors[0].field == "filter"
    assert "position 32" in raised.value.errors[0].message
    with pytest.raises(InvalidArgument):
        platform.tracking.search_runs(page_token="not-a-token")
    with pytest.raises(InvalidArgument):
        platform.tracking.search_runs(filter="metrics.acc > 'high'")


def test_history_downsampling_keeps_extremes(platform: Platform) -> None:
    tracking = platform.tracking
    run = tracking.create_run()
    n = 10_000
    values = [math.sin(i / 100) for i in range(n)]
    values[1234] = 50.0  # a spike must survive downsampling
    tracking.log_batch(run.id, metrics=_columns(["wave"] * n, values, list(range(n))))
    full = tracking.get_metric_history(run.id, "wave")
    assert full.total_points == n
    assert not full.downsampled
    small = tracking.get_metric_history(run.id, "wave", max_points=100)
    assert small.downsampled
    assert len(small.steps) <= 100
    assert max(small.values_max or []) == 50.0
    assert min(small.values_min or []) == pytest.approx(-1.0, abs=1e-3)
    window = tracking.get_metric_history(run.id, "wave", min_step=1000, max_step=1999)
    assert window.steps[0] == 1000
    assert window.steps[-1] == 1999


def test_compare_highlights_differing_params(platform: Platform) -> None:
    _exp, ids = _search_fixture(platform)
    comparison = platform.tracking.compare_runs([ids["a"], ids["b"], ids["c"]])
    assert comparison.run_ids == [ids["a"], ids["b"], ids["c"]]
    assert set(comparison.differing_params) == {"lr", "model"}
    assert comparison.metrics["acc"] == [0.95, 0.97, 0.5]
    assert comparison.metrics["loss"] == [0.1, None, None]
