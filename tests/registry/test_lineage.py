"""Lineage in one call: data set -> run -> model version -> alias, up and down, any depth."""

from __future__ import annotations

import pytest

from plinth.connect import Platform
from plinth.entities.common import new_id
from plinth.entities.lineage import LineageGraph
from plinth.entities.tracking import DatasetInput
from plinth.errors import InvalidArgument, NotFound
from tests.registry.logged_models import trained

TRAIN = "dataset:default/train-set@train-1"
EVAL = "dataset:default/eval-set@eval-1"


def edges(graph: LineageGraph) -> set[tuple[str, str, str]]:
    return {(e.source, e.target, e.relation) for e in graph.edges}


def uris(graph: LineageGraph) -> set[str]:
    return {n.uri for n in graph.nodes}


def test_from_an_alias_up_to_the_data(platform: Platform) -> None:
    registry = platform.registry
    source = trained(platform, {"accuracy": 0.9})
    run = f"run:{source.split('/')[1]}"
    registry.register_model(source, "iris")
    registry.promote("iris", 1, "champion")
    graph = registry.lineage("models:/iris@champion", direction="up")
    assert graph.root == "models:/iris@champion"
    assert edges(graph) == {
        ("models:/iris/1", "models:/iris@champion", "alias"),
        (run, "models:/iris/1", "produced"),
        (TRAIN, run, "input"),
        (EVAL, run, "input"),
    }
    kinds = {n.uri: n.kind.value for n in graph.nodes}
    assert kinds[run] == "run"
    assert kinds[TRAIN] == "dataset"
    version = next(n for n in graph.nodes if n.uri == "models:/iris/1")
    assert version.attributes["flavor"] == "sklearn"
    contexts = {e.source: e.attributes.get("context") for e in graph.edges if e.target == run}
    assert contexts == {TRAIN: "training", EVAL: "evaluation"}
    shallow = registry.lineage("models:/iris@champion", direction="up", depth=2)
    assert uris(shallow) == {"models:/iris@champion", "models:/iris/1", run}


def test_from_a_data_set_down_to_every_version_and_alias(platform: Platform) -> None:
    registry = platform.registry
    first, second = trained(platform), trained(platform)
    registry.register_model(first, "iris")
    registry.register_model(second, "iris")
    registry.register_model(second, "iris-small")
    registry.promote("iris", 2, "champion")
    registry.promote("iris-small", 1, "staging")
    graph = registry.lineage(TRAIN, direction="down")
    runs = {f"run:{s.split('/')[1]}" for s in (first, second)}
    assert uris(graph) == {
        TRAIN,
        *runs,
        "models:/iris/1",
        "models:/iris/2",
        "models:/iris-small/1",
        "models:/iris@champion",
        "models:/iris-small@staging",
    }
    assert (TRAIN, f"run:{second.split('/')[1]}", "input") in edges(graph)
    assert EVAL not in uris(graph)  # down from the data: not its siblings


def test_down_from_a_data_set_reaches_runs_that_registered_nothing(platform: Platform) -> None:
    tracking = platform.tracking
    digest = new_id()
    reader = tracking.create_run(name="explore")
    tracking.log_inputs(reader.id, [DatasetInput(name="fresh", digest=digest, context="eda")])
    same_name = tracking.create_run()  # another version of the data: not this node
    tracking.log_inputs(same_name.id, [DatasetInput(name="fresh", digest=new_id())])
    tracking.store.delete_run(reader.id)  # deleted runs still read the data
    graph = platform.registry.lineage(f"dataset:default/fresh@{digest}", direction="down")
    node = f"run:{reader.id}"
    assert uris(graph) == {f"dataset:default/fresh@{digest}", node}
    assert [e.attributes for e in graph.edges] == [{"context": "eda"}]


def test_both_ways_from_a_version_and_from_a_run(platform: Platform) -> None:
    registry = platform.registry
    source = trained(platform)
    run = f"run:{source.split('/')[1]}"
    registry.register_model(source, "iris")
    registry.promote("iris", 1, "champion")
    graph = registry.lineage("models:/iris/1")
    assert uris(graph) == {"models:/iris/1", "models:/iris@champion", run, TRAIN, EVAL}
    from_run = registry.lineage(run, depth=1)
    assert uris(from_run) == {run, TRAIN, EVAL, "models:/iris/1"}
    unregistered = platform.tracking.create_run()
    alone = registry.lineage(f"run:{unregistered.id}")
    assert uris(alone) == {f"run:{unregistered.id}"}
    assert alone.edges == []


def test_unknown_and_malformed_nodes(platform: Platform) -> None:
    registry = platform.registry
    with pytest.raises(NotFound):
        registry.lineage(f"run:{new_id()}")
    with pytest.raises(NotFound):
        registry.lineage("models:/nothing/1")
    with pytest.raises(NotFound):
        registry.lineage("models:/nothing@champion")
    too_long = (
        "dataset:" + "p" * 251 + "/n@d",
        "dataset:default/" + "'" * 6000 + "@d",
        "dataset:default/n@" + "d" * 129,
    )
    for bad in ("dataset:no-digest", "run:xyz", "s3://x", "models:/", *too_long):
        with pytest.raises(InvalidArgument):
            registry.lineage(bad)
    with pytest.raises(InvalidArgument):
        registry.lineage(TRAIN, direction="sideways")
    with pytest.raises(InvalidArgument):
        registry.lineage(TRAIN, depth=0)
    lonely = registry.lineage("dataset:default/never-read@abc")
    assert (lonely.nodes[0].label, lonely.edges) == ("never-read", [])
