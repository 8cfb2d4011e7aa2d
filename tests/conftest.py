"""Fixtures: every store test body runs against SQLite, PostgreSQL and the REST client."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from plinth.config import Settings
from plinth.connect import Platform, connect
from tests.servers import PostgresCluster, threaded_plinth

# Tests never read the developer's ~/.plinth or talk to a server named in the environment.
for _name in [n for n in os.environ if n.startswith("PLINTH_")]:
    del os.environ[_name]


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresCluster]:
    if not PostgresCluster.available():
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL (initdb/pg_ctl) is required in CI; `make test` installs it")
        pytest.skip("PostgreSQL is not installed")
    cluster = PostgresCluster()
    cluster.start()
    yield cluster
    cluster.stop()


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database of each kind."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'plinth.db'}"
    cluster: PostgresCluster = request.getfixturevalue("postgres")
    return cluster.new_database()


@pytest.fixture
def local_settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", system_metrics=False)


@pytest.fixture(params=["sql-sqlite", "sql-postgres", "rest"])
def platform(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Platform]:
    """The same platform API over each store implementation."""
    data_dir = tmp_path / "data"
    if request.param == "sql-sqlite":
        settings = Settings(data_dir=data_dir)
    elif request.param == "sql-postgres":
        cluster: PostgresCluster = request.getfixturevalue("postgres")
        settings = Settings(data_dir=data_dir, database_url=cluster.new_database())
    else:
        server_settings = Settings(data_dir=tmp_path / "server")
        with threaded_plinth(server_settings) as url:
            client = connect(Settings(data_dir=data_dir, url=url, http_retry_seconds=0.5))
            yield client
            client.close()
        return
    client = connect(settings)
    yield client
    client.close()
