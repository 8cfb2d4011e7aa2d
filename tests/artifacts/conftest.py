"""Artifact fixtures: one test body runs on a local folder and on S3 (moto's server on
loopback), through the SQL store (SQLite, PostgreSQL) and through the REST client."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from plinth.artifacts.backends import open_blob_store
from plinth.artifacts.fsspec_backend import FsspecBlobStore
from plinth.client.artifacts import RestRunArtifactStore
from plinth.config import Settings
from plinth.connect import Platform, connect
from tests.artifacts.s3 import CREDENTIALS, MotoS3
from tests.servers import PostgresCluster, threaded_plinth

SMALL_PARTS = 64 * 1024
"""The REST client sends files above this in parts of this size (so tests exercise it)."""


@pytest.fixture(scope="session")
def moto_s3() -> Iterator[MotoS3]:
    server = MotoS3()
    server.start()
    patch = pytest.MonkeyPatch()
    for name, value in CREDENTIALS.items():  # what every AWS client reads
        patch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
        patch.delenv(name, raising=False)
    yield server
    patch.undo()
    server.stop()


def storage_settings(request: pytest.FixtureRequest, data_dir: Path, backend: str) -> Settings:
    """Settings whose artifacts live in a local folder or in a fresh S3 bucket."""
    if backend == "local":
        return Settings(data_dir=data_dir, system_metrics=False)
    s3: MotoS3 = request.getfixturevalue("moto_s3")
    return Settings(
        data_dir=data_dir,
        artifacts_url=f"s3://{s3.new_bucket()}/artifacts",
        s3_endpoint_url=s3.url,
        system_metrics=False,
    )


@pytest.fixture(params=["local", "s3"])
def artifact_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    return storage_settings(request, tmp_path / "data", request.param)


@pytest.fixture
def blobs(artifact_settings: Settings) -> FsspecBlobStore:
    store = open_blob_store(artifact_settings)
    assert isinstance(store, FsspecBlobStore)
    return store


@dataclass
class ArtifactEnv:
    """A platform to test through, and the blob store its artifacts land in."""

    platform: Platform
    blobs: FsspecBlobStore
    kind: str

    @property
    def remote(self) -> bool:
        return self.kind.startswith("rest")

    @property
    def s3(self) -> bool:
        return self.kind.endswith("s3")

    def new_run(self) -> str:
        return self.platform.tracking.create_run().id

    def blob_digests(self) -> list[str]:
        return sorted(stat.digest for stat in self.blobs.list_blobs())


@pytest.fixture(params=["sqlite-local", "sqlite-s3", "postgres-local", "rest-local", "rest-s3"])
def env(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ArtifactEnv]:
    kind: str = request.param
    database, backend = kind.split("-")
    settings = storage_settings(request, tmp_path / "data", backend)
    if database == "postgres":
        cluster: PostgresCluster = request.getfixturevalue("postgres")
        settings = settings.model_copy(update={"database_url": cluster.new_database()})
    blobs = open_blob_store(settings)
    assert isinstance(blobs, FsspecBlobStore)
    if database != "rest":
        platform = connect(settings)
        yield ArtifactEnv(platform, blobs, kind)
        platform.close()
        return
    with threaded_plinth(settings) as url:
        client = connect(Settings(data_dir=tmp_path / "client", url=url, http_retry_seconds=1))
        assert isinstance(client.artifacts, RestRunArtifactStore)
        client.artifacts.multipart_threshold = SMALL_PARTS
        client.artifacts.part_size = SMALL_PARTS
        yield ArtifactEnv(client, blobs, kind)
        client.close()


def random_bytes(size: int) -> bytes:
    return os.urandom(size)
