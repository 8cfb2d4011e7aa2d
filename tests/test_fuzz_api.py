"""The HTTP API fuzzed from its own OpenAPI spec (schemathesis): no input earns a 5xx.

Each operation gets a bounded number of derandomized examples (positive and negative, from a
fixed seed), sent over real HTTP to a server in a thread, on SQLite and on PostgreSQL. Half
the cases aim at a run and an experiment that exist, so the fuzzer reaches past the 404s
into the writes. Every error must be problem+json.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import requests
import schemathesis
from schemathesis.checks import not_a_server_error

from plinth.config import Settings
from plinth.server.app import create_app
from plinth.server.problems import PROBLEM_MEDIA_TYPE
from tests.servers import PostgresCluster, threaded_plinth

MAX_EXAMPLES = 50


class FuzzTarget:
    """A running server and the ids of objects that exist on it."""

    def __init__(self, url: str, run_id: str, experiment_id: str) -> None:
        self.url = url
        self.run_id = run_id
        self.experiment_id = experiment_id


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def fuzz_target(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FuzzTarget]:
    data_dir: Path = tmp_path_factory.mktemp(f"fuzz-{request.param}")
    database_url = None
    if request.param == "postgres":
        cluster: PostgresCluster = request.getfixturevalue("postgres")
        database_url = cluster.new_database()
    settings = Settings(data_dir=data_dir, database_url=database_url, system_metrics=False)
    with threaded_plinth(settings) as url:
        api = f"{url}/api/v1"
        experiment = httpx.post(f"{api}/experiments", json={"name": "fuzzed"}).json()
        run = httpx.post(f"{api}/runs", json={"experiment_id": experiment["id"]}).json()
        yield FuzzTarget(url, run["id"], experiment["id"])


def _load_schema() -> schemathesis.BaseSchema:
    """The spec as the app publishes it (the app is built, never started)."""
    with tempfile.TemporaryDirectory(prefix="plinth-openapi-") as directory:
        openapi = create_app(Settings(data_dir=Path(directory)), migrate=False).openapi()
    config = schemathesis.Config.from_dict(
        {
            "seed": 20240601,
            "suppress-health-check": ["all"],  # a slow, busy CI machine is not a failure
            "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True, "database": "none"},
            "phases": {"stateful": {"enabled": False}},
        }
    )
    return schemathesis.openapi.from_dict(openapi, config=config)


@pytest.fixture(scope="module")
def http_session() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


schema = _load_schema()


def _aim_at_known_objects(case: schemathesis.Case, target: FuzzTarget) -> None:
    """Point every other case (chosen by a hash, so runs repeat) at objects that exist."""
    path = case.path_parameters or {}
    fingerprint = hashlib.sha256(repr((case.path_parameters, case.query, case.body)).encode())
    if fingerprint.digest()[0] % 2:
        return
    if "run_id" in path:
        path["run_id"] = target.run_id
    if "experiment_id" in path:
        path["experiment_id"] = target.experiment_id


@schema.parametrize()
def test_no_server_errors(
    case: schemathesis.Case, fuzz_target: FuzzTarget, http_session: requests.Session
) -> None:
    _aim_at_known_objects(case, fuzz_target)
    response = case.call(base_url=fuzz_target.url, session=http_session)
    case.validate_response(
        response, checks=[not_a_server_error], transport_kwargs={"base_url": fuzz_target.url}
    )
    if response.status_code >= 400:
        content_type = response.headers.get("content-type", [""])[0]
        assert content_type.startswith(PROBLEM_MEDIA_TYPE), (response.status_code, response.text)
        problem = response.json()
        assert {"type", "title", "status", "detail", "errors"} <= problem.keys()
        assert problem["status"] == response.status_code
