"""One real server (uvicorn in a thread, loopback) per database backend for the module."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from plinth.config import Settings
from tests.server.api import Api
from tests.servers import PostgresCluster, threaded_plinth


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def api(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    database_url = None
    if request.param == "postgres":
        cluster: PostgresCluster = request.getfixturevalue("postgres")
        database_url = cluster.new_database()
    data_dir = tmp_path_factory.mktemp(f"server-{request.param}")
    settings = Settings(data_dir=data_dir, database_url=database_url, system_metrics=False)
    with (
        threaded_plinth(settings) as url,
        httpx.Client(base_url=f"{url}/api/v1", timeout=30) as client,
    ):
        yield Api(client, url, request.param, data_dir)
