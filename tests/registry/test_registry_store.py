"""The registry store contract: one body per behaviour, on SQLite, PostgreSQL and REST."""

from __future__ import annotations

import pytest

from plinth.connect import Platform
from plinth.entities.common import new_id
from plinth.entities.models import ScanStatus
from plinth.entities.registry import ModelVersionCreate, ModelVersionUpdate, VersionStatus
from plinth.errors import AlreadyExists, Conflict, InvalidArgument, NotFound
from tests.registry.logged_models import SIGNATURE, log_model_manifest, trained


def actor_of(platform: Platform) -> str:
    return "anonymous" if platform.remote else "local"


def test_register_snapshots_the_run_and_creates_the_model(platform: Platform) -> None:
    source = trained(platform, {"accuracy": 0.91, "loss": float("nan")})
    run_id = source.split("/")[1]
    version = platform.registry.register_model(source, "iris", description="first")
    assert (version.name, version.version) == ("iris", 1)
    assert version.source_uri == source
    assert version.run_id == run_id
    assert version.metrics["accuracy"] == 0.91
    assert version.metrics["loss"] != version.metrics["loss"]  # NaN survives
    assert version.signature == SIGNATURE
    assert (version.flavor, version.format, version.scan) == ("sklearn", "skops", "clean")
    listing = platform.artifacts.list(run_id, "model/plinth-model.yaml")
    assert version.digest == listing[0].digest
    assert {(i.name, i.context) for i in version.inputs} == {
        ("train-set", "training"),
        ("eval-set", "evaluation"),
    }
    assert version.created_by == actor_of(platform)
    stored = platform.registry.store.get_version("iris", 1)
    assert stored.model_dump_json() == version.model_dump_json()  # (NaN != NaN)
    second = platform.registry.register_model(trained(platform, {"accuracy": 0.93}), "iris")
    assert second.version == 2
    model = platform.registry.store.get_model("iris")
    assert (model.owner, model.latest_version, model.project) == (actor_of(platform), 2, "default")
    versions = platform.registry.store.list_versions("iris").items
    assert [v.version for v in versions] == [2, 1]


def test_a_retried_registration_returns_the_first_version(platform: Platform) -> None:
    store = platform.registry.store
    source = trained(platform, {"accuracy": 0.9})
    key = new_id()
    first = store.create_version("iris", ModelVersionCreate(source=source, request_id=key))
    again = store.create_version("iris", ModelVersionCreate(source=source, request_id=key))
    assert again.model_dump_json() == first.model_dump_json()
    assert [v.version for v in store.list_versions("iris").items] == [1]
    other = store.create_version("iris", ModelVersionCreate(source=source, request_id=new_id()))
    assert other.version == 2  # another key is another registration, same source or not
    with pytest.raises(Conflict, match="another model"):
        store.create_version("wine", ModelVersionCreate(source=source, request_id=key))
    elsewhere = trained(platform, {"accuracy": 0.8})
    with pytest.raises(Conflict, match="already registered iris v1"):
        store.create_version("iris", ModelVersionCreate(source=elsewhere, request_id=key))
    with pytest.raises(NotFound):
        store.get_model("wine")


def test_registering_from_a_missing_run_is_not_found(platform: Platform) -> None:
    with pytest.raises(NotFound):
        platform.registry.register_model(f"runs:/{new_id()}/model", "ghost")
    with pytest.raises(NotFound):
        platform.registry.store.get_model("ghost")  # nothing was created on the way


def test_registering_bad_sources_and_names_is_invalid(platform: Platform) -> None:
    run = platform.tracking.create_run()
    with pytest.raises(InvalidArgument, match="no logged model"):
        platform.registry.register_model(f"runs:/{run.id}/model", "empty")
    source = log_model_manifest(platform, run.id)
    for bad_source in (
        "s3://bucket/model",
        f"runs:/{run.id}",
        f"runs:/{run.id}/./",
        f"runs:/{run.id}/a/../../model",
        "runs:/not-an-id/model",
    ):
        with pytest.raises(InvalidArgument):
            platform.registry.register_model(bad_source, "iris")
    spelled = platform.registry.register_model(f"runs:/{run.id}/./model//", "dotted")
    assert (spelled.artifact_path, spelled.source_uri) == ("model", source)
    for bad_name in ("bad/name", "a@b", "", "-dash", "x" * 251):
        with pytest.raises(InvalidArgument):
            platform.registry.register_model(source, bad_name)


def test_models_created_explicitly_list_and_update(platform: Platform) -> None:
    registry = platform.registry
    created = registry.create_model("fraud", description="cards", tags={"team": "risk"})
    assert (created.owner, created.tags, created.latest_version) == (
        actor_of(platform),
        {"team": "risk"},
        None,
    )
    with pytest.raises(AlreadyExists):
        registry.create_model("fraud")
    with pytest.raises(NotFound):
        registry.create_model("orphan", project="no-such-project")
    from plinth.entities.registry import RegisteredModelUpdate

    updated = registry.store.update_model(
        "fraud", RegisteredModelUpdate(description="card fraud", tags={"team": "ml"})
    )
    assert (updated.description, updated.tags) == ("card fraud", {"team": "ml"})
    for name in ("alpha", "beta", "gamma"):
        registry.create_model(name)
    names: list[str] = []
    token = None
    while True:
        page = registry.store.list_models(max_results=2, page_token=token)
        names += [m.name for m in page.items]
        token = page.next_page_token
        if token is None:
            break
    assert names == ["alpha", "beta", "fraud", "gamma"]
    assert [m.name for m in registry.store.list_models(name_like="MM").items] == ["gamma"]


def test_resolve_by_number_alias_and_latest(platform: Platform) -> None:
    registry = platform.registry
    registry.register_model(trained(platform, {"accuracy": 0.9}), "iris")
    registry.register_model(trained(platform, {"accuracy": 0.95}), "iris")
    registry.promote("iris", 1, "champion")
    assert registry.resolve("iris").version == 2
    assert registry.resolve("iris", version=1).version == 1
    assert registry.resolve("iris", alias="champion").version == 1
    assert registry.resolve_uri("models:/iris@champion").source_uri.startswith("runs:/")
    assert registry.resolve_uri("models:/iris/2").version == 2
    assert registry.resolve_uri("models:/iris").version == 2
    assert registry.store.get_version("iris", 1).aliases == ["champion"]
    with pytest.raises(NotFound):
        registry.resolve("iris", alias="staging")
    with pytest.raises(NotFound):
        registry.resolve("iris", version=9)
    with pytest.raises(NotFound):
        registry.resolve("nothing")
    with pytest.raises(InvalidArgument):
        registry.resolve_uri("runs:/abc/model")


def test_invalid_alias_names_are_refused(platform: Platform) -> None:
    platform.registry.register_model(trained(platform, {"accuracy": 0.9}), "iris")
    for alias in ("latest", "v2", "9lives", "has space", "a/b", "x" * 65, ""):
        with pytest.raises(InvalidArgument):
            platform.registry.promote("iris", 1, alias)
    with pytest.raises(InvalidArgument):
        platform.registry.rollback("iris", "LATEST")


def test_promoting_a_version_of_another_model_is_refused(platform: Platform) -> None:
    registry = platform.registry
    registry.register_model(trained(platform, {"accuracy": 0.9}), "iris")
    registry.register_model(trained(platform, {"accuracy": 0.9}), "wine")
    with pytest.raises(InvalidArgument, match="version of model 'wine'"):
        registry.promote("iris", "models:/wine/1", "champion")
    with pytest.raises(NotFound):
        registry.promote("iris", 2, "champion")  # iris has only v1
    with pytest.raises(NotFound):
        registry.promote("nothing", 1, "champion")
    assert registry.store.list_aliases("iris") == []


def test_promote_rollback_and_history(platform: Platform) -> None:
    registry = platform.registry
    for accuracy in (0.90, 0.92, 0.94):
        registry.register_model(trained(platform, {"accuracy": accuracy}), "iris")
    for version in (1, 2, 3):
        result = registry.promote("iris", version, "champion", reason=f"try v{version}")
        assert result.moved
    registry.promote("iris", 1, "staging")
    with pytest.raises(Conflict, match="already holds"):
        registry.promote("iris", 3, "champion")
    back = registry.rollback("iris", "champion", reason="v3 misbehaves")
    assert (back.from_version, back.to_version, back.kind) == (3, 2, "rollback")
    assert registry.rollback("iris", "champion").to_version == 1
    with pytest.raises(Conflict, match="no previous version"):
        registry.rollback("iris", "champion")
    with pytest.raises(Conflict, match="points at no version"):
        registry.rollback("iris", "canary")
    history = registry.store.alias_history("iris", "champion")
    assert [(m.from_version, m.to_version, m.kind.value) for m in history] == [
        (2, 1, "rollback"),
        (3, 2, "rollback"),
        (2, 3, "promote"),
        (1, 2, "promote"),
        (None, 1, "promote"),
    ]
    assert history[1].reason == "v3 misbehaves"
    assert {m.actor for m in history} == {actor_of(platform)}
    assert len(registry.store.alias_history("iris")) == 6
    aliases = {a.alias: a.version for a in registry.store.list_aliases("iris")}
    assert aliases == {"champion": 1, "staging": 1}
    registry.promote("iris", 3, "champion")  # promoting again restarts the stack
    assert registry.rollback("iris", "champion").to_version == 1


def test_expected_version_is_compare_and_set(platform: Platform) -> None:
    registry = platform.registry
    for _ in range(3):
        registry.register_model(trained(platform, {"accuracy": 0.9}), "iris")
    with pytest.raises(Conflict, match="held by no version"):
        registry.promote("iris", 1, "champion", expected_version=2)
    registry.promote("iris", 1, "champion")
    with pytest.raises(Conflict, match="held by v1"):
        registry.promote("iris", 3, "champion", expected_version=2)
    assert registry.promote("iris", 3, "champion", expected_version=1).moved


def test_archived_versions_are_never_promoted(platform: Platform) -> None:
    registry = platform.registry
    registry.register_model(trained(platform, {"accuracy": 0.9}, scan=ScanStatus.CLEAN), "iris")
    archived = registry.store.update_version(
        "iris", 1, ModelVersionUpdate(status=VersionStatus.ARCHIVED, description="old")
    )
    assert (archived.status, archived.description) == ("archived", "old")
    with pytest.raises(Conflict, match="archived"):
        registry.promote("iris", 1, "champion")


def test_a_registered_versions_files_cannot_be_replaced(platform: Platform) -> None:
    """Versions are immutable: the run path they are read from is frozen, so an upload
    cannot swap the model under them (nor leave their blobs to gc)."""
    import io

    source = trained(platform, {"accuracy": 0.9})
    run_id = source.split("/")[1]
    version = platform.registry.register_model(source, "iris")
    for path in ("model/plinth-model.yaml", "model/extra.txt", "model/sub/deeper.bin"):
        with pytest.raises(Conflict, match="never change") as refused:
            platform.artifacts.upload(run_id, path, io.BytesIO(b"swapped"))
        assert any(e.field == "path" for e in refused.value.errors)
    with pytest.raises(Conflict):  # the folder itself as a file: refused too
        platform.artifacts.upload(run_id, "model", io.BytesIO(b"swapped"))
    listing = platform.artifacts.list(run_id, "model/plinth-model.yaml")
    assert listing[0].digest == version.digest  # untouched
    platform.artifacts.upload(run_id, "other/notes.txt", io.BytesIO(b"elsewhere is fine"))
    platform.artifacts.upload(run_id, "model-2/notes.txt", io.BytesIO(b"a sibling name too"))
