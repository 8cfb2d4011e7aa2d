"""``load_model`` resolves URIs, caches by manifest digest, verifies files and enforces the
signature on ``predict`` (locally and through a server)."""

from __future__ import annotations

from pathlib import Path

import pytest

import plinth
from plinth.errors import InvalidArgument
from plinth.registry.loading import CorruptModel, load_model_dir
from plinth.registry.packaging import package_model
from plinth.sdk import session
from tests.registry.model_samples import forest, iris, with_custom_step


def test_runs_uri_loads_and_predicts(sdk: str) -> None:
    frame, _ = iris()
    info = plinth.log_model(forest(), input_example=frame.head(2))
    loaded = plinth.load_model(info.model_uri)
    assert loaded.predict(frame).tolist() == forest().predict(frame).tolist()
    assert (
        loaded.predict(frame.iloc[0].to_dict()).tolist() == forest().predict(frame.head(1)).tolist()
    )
    assert loaded.input_example.equals(frame.head(2))
    with pytest.raises(InvalidArgument) as caught:
        loaded.predict(frame.drop(columns=["petal_width"]))
    assert caught.value.errors[0].field == "inputs.petal_width"


def test_a_second_load_comes_from_the_cache(sdk: str) -> None:
    info = plinth.log_model(forest())
    first = plinth.load_model(info.model_uri)
    cache = session.current().settings.data_dir.resolve() / "model-cache"
    assert first.directory == cache / info.digest
    assert first.digest == info.digest
    second = plinth.load_model(info.model_uri)
    assert second.directory == first.directory
    assert (first.directory / ".plinth" / "scan.json").is_file()


def test_registry_uris_resolve_to_their_source(sdk: str) -> None:
    registry = session.current().platform.registry
    frame, _ = iris()
    info = plinth.log_model(forest(), registered_model_name="flowers")
    registry.promote("flowers", 1, "champion")
    for uri in ("models:/flowers/1", "models:/flowers@champion", "models:/flowers"):
        loaded = plinth.load_model(uri)
        assert loaded.digest == info.digest
        assert loaded.predict(frame.head(3)).tolist() == [0, 0, 0]
    with pytest.raises(plinth.NotFound):
        plinth.load_model("models:/flowers/7")


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("runs:/not-a-run/model", "is not a run id"),
        ("runs:/0123456789abcdef0123456789abcdef", "name the model's folder"),
        ("models:/flowers/latest", "is not a positive number"),
        ("s3://bucket/model", "unknown scheme"),
    ],
)
def test_malformed_uris_name_the_field(sdk: str, uri: str, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message) as caught:
        plinth.load_model(uri)
    assert caught.value.errors[0].field == "model_uri"


def test_a_file_that_differs_from_its_manifest_is_refused(sdk: str, tmp_path: Path) -> None:
    package_model(forest(), tmp_path / "m")
    with open(tmp_path / "m" / "model.skops", "ab") as model_file:
        model_file.write(b"tampered")
    with pytest.raises(CorruptModel, match="does not match its manifest"):
        load_model_dir(tmp_path / "m")
    with plinth.start_run() as run:
        plinth.log_artifacts(tmp_path / "m", "model")
    with pytest.raises(CorruptModel, match=r"model\.skops does not match its manifest"):
        plinth.load_model(f"runs:/{run.id}/model")
    cache = session.current().settings.data_dir.resolve() / "model-cache"
    assert not [p for p in cache.iterdir() if not p.name.startswith(".")]  # nothing cached


def test_a_local_folder_loads_in_place(tmp_path: Path) -> None:
    frame, _ = iris()
    package_model(forest(), tmp_path / "m")
    loaded = plinth.load_model(str(tmp_path / "m"))
    assert loaded.directory == tmp_path / "m"
    assert loaded.predict(frame.head(1)).tolist() == [0]
    with pytest.raises(InvalidArgument, match=r"has no plinth-model\.yaml"):
        plinth.load_model(str(tmp_path))


def test_trust_given_once_is_not_remembered(sdk: str) -> None:
    info = plinth.log_model(with_custom_step())
    frame, _ = iris()
    assert plinth.load_model(info.model_uri, trusted=True).predict(frame.to_numpy()).shape == (150,)
    with pytest.raises(InvalidArgument, match="skops does not trust"):
        plinth.load_model(info.model_uri)  # the cached copy is no way around the check


def test_a_version_whose_files_changed_under_it_is_refused(tmp_path: Path) -> None:
    """Files frozen since migration 0007 cannot change; a path that changed before it (here:
    its freeze removed by hand) is caught at load: the manifest must be the registered one."""
    from sqlalchemy import delete

    from plinth.db.tables.artifacts import frozen_artifact_paths

    session.configure(data_dir=tmp_path / "data", system_metrics=False)
    try:
        with plinth.start_run() as run:
            plinth.log_model(forest(), name="model", registered_model_name="flowers")
        database = session.current().platform.tracking.store.database
        with database.write() as conn:
            conn.execute(delete(frozen_artifact_paths))
        package_model(forest(), tmp_path / "other", format="joblib")
        plinth.log_artifacts(tmp_path / "other", "model", run_id=run.id)
        with pytest.raises(CorruptModel, match="not the ones it registered"):
            plinth.load_model("models:/flowers/1")
    finally:
        session.configure()
