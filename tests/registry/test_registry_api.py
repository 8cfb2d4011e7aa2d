"""The registry over real HTTP: status codes, problem+json for every refusal, the 409 of a
lost promotion race, lineage and webhook routes."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from plinth.config import Settings
from plinth.connect import Platform, connect
from plinth.entities.common import new_id
from tests.registry.logged_models import trained
from tests.server.api import assert_problem
from tests.servers import PostgresCluster, threaded_plinth


@dataclass
class Server:
    client: httpx.Client
    platform: Platform
    """A REST platform on the same server, to seed runs with logged models."""


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    database_url = None
    if request.param == "postgres":
        cluster: PostgresCluster = request.getfixturevalue("postgres")
        database_url = cluster.new_database()
    data_dir = tmp_path_factory.mktemp(f"registry-{request.param}")
    settings = Settings(data_dir=data_dir / "server", database_url=database_url)
    with (
        threaded_plinth(settings) as url,
        httpx.Client(base_url=f"{url}/api/v1", timeout=30) as client,
    ):
        platform = connect(Settings(data_dir=data_dir / "client", url=url))
        yield Server(client, platform)
        platform.close()


def model_name() -> str:
    return f"m-{new_id()[:10]}"


def register(server: Server, name: str, accuracy: float = 0.9) -> dict[str, object]:
    source = trained(server.platform, {"accuracy": accuracy})
    response = server.client.post(f"/models/{name}/versions", json={"source": source})
    assert response.status_code == 201, response.text
    body: dict[str, object] = response.json()
    return body


def test_register_read_and_list(server: Server) -> None:
    name = model_name()
    version = register(server, name)
    assert (version["name"], version["version"], version["created_by"]) == (name, 1, "anonymous")
    assert server.client.get(f"/models/{name}/versions/1").json() == version
    model = server.client.get(f"/models/{name}").json()
    assert (model["owner"], model["latest_version"]) == ("anonymous", 1)
    listed = server.client.get("/models", params={"name_like": name}).json()
    assert [m["name"] for m in listed["items"]] == [name]
    page = server.client.get(f"/models/{name}/versions", params={"max_results": 1}).json()
    assert [v["version"] for v in page["items"]] == [1]


def test_registration_retries_with_one_idempotency_key_register_once(server: Server) -> None:
    name = model_name()
    source = trained(server.platform, {"accuracy": 0.9})
    headers = {"Idempotency-Key": new_id()}
    answers: list[httpx.Response] = []

    def attempt() -> None:  # four retries of one call racing each other
        with httpx.Client(base_url=server.client.base_url, timeout=30) as client:
            body = {"source": source}
            answers.append(client.post(f"/models/{name}/versions", json=body, headers=headers))

    threads = [threading.Thread(target=attempt) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [a.status_code for a in answers] == [201] * 4, [a.text for a in answers]
    assert {a.json()["version"] for a in answers} == {1}
    versions = server.client.get(f"/models/{name}/versions").json()["items"]
    assert [v["version"] for v in versions] == [1]
    short = server.client.post(
        f"/models/{name}/versions", json={"source": source}, headers={"Idempotency-Key": "x"}
    )
    assert_problem(short, 400, "idempotency-key")
    both = server.client.post(
        f"/models/{name}/versions",
        json={"source": source, "request_id": new_id()},
        headers={"Idempotency-Key": new_id()},
    )
    assert_problem(both, 400, "request_id")


def test_refusals_are_problems(server: Server) -> None:
    client = server.client
    name = model_name()
    missing_run = {"source": f"runs:/{new_id()}/model"}
    assert_problem(client.post(f"/models/{name}/versions", json=missing_run), 404)
    assert_problem(client.post("/models/bad@name/versions", json=missing_run), 400, "name")
    assert_problem(client.post(f"/models/{name}/versions", json={"source": "nope"}), 400)
    assert_problem(client.get(f"/models/{name}"), 404)
    register(server, name)
    assert_problem(
        client.post(f"/models/{name}/promote", json={"version": 1, "alias": "latest"}),
        400,
        "alias",
    )
    assert_problem(
        client.post(f"/models/{name}/promote", json={"version": 7, "alias": "champion"}), 404
    )
    assert_problem(client.get(f"/models/{name}/aliases/champion"), 404)
    assert_problem(client.get(f"/models/{name}/versions/0"), 400)
    assert_problem(
        client.put(f"/models/{name}/gates", json={"gates": [{"kind": "telepathy"}]}), 400
    )
    assert_problem(client.post(f"/models/{name}/rollback", json={"alias": "champion"}), 409)
    assert_problem(client.post(f"/promotions/{new_id()}/approve", json={}), 404)
    assert_problem(client.get("/lineage", params={"uri": "run:nope"}), 400)
    assert_problem(client.get("/lineage", params={"uri": f"run:{new_id()}"}), 404)
    assert_problem(client.post("/webhooks", json={"url": "ftp://x.example/hook"}), 400, "url")
    assert_problem(client.get(f"/webhooks/{new_id()}/deliveries"), 404)


def test_promotion_request_approval_and_permissions(server: Server) -> None:
    client = server.client
    name = model_name()
    register(server, name)
    gates = {"gates": [{"kind": "approvals", "count": 1, "role": "ml-lead"}]}
    assert client.put(f"/models/{name}/gates", json=gates).status_code == 200
    result = client.post(f"/models/{name}/promote", json={"version": 1, "alias": "champion"})
    assert result.status_code == 200
    request = result.json()["request"]
    assert result.json()["moved"] is False
    assert_problem(client.post(f"/promotions/{request['id']}/approve", json={}), 403)
    approver = {"user": "anonymous", "role": "ml-lead"}
    assert client.post(f"/models/{name}/approvers", json=approver).status_code == 201
    approved = client.post(f"/promotions/{request['id']}/approve", json={"comment": "ok"})
    assert approved.json()["moved"] is True
    assert client.get(f"/models/{name}/aliases/champion").json()["version"] == 1
    history = client.get(f"/models/{name}/history", params={"alias": "champion"}).json()
    assert [(m["kind"], m["request_id"]) for m in history] == [("approved", request["id"])]
    removed = client.delete(f"/models/{name}/approvers", params=approver)
    assert removed.status_code == 204


def test_a_lost_race_is_a_409(server: Server) -> None:
    name = model_name()
    for accuracy in (0.9, 0.91, 0.92):
        register(server, name, accuracy)
    body = {"version": 1, "alias": "champion"}
    assert server.client.post(f"/models/{name}/promote", json=body).status_code == 200
    barrier = threading.Barrier(2)
    answers: list[httpx.Response] = []

    def promote(version: int) -> None:
        barrier.wait()
        spec = {"version": version, "alias": "champion", "expected_version": 1}
        answers.append(server.client.post(f"/models/{name}/promote", json=spec))

    threads = [threading.Thread(target=promote, args=(v,)) for v in (2, 3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(a.status_code for a in answers) == [200, 409]
    assert_problem(next(a for a in answers if a.status_code == 409), 409)


def test_lineage_and_webhook_routes(server: Server) -> None:
    client = server.client
    name = model_name()
    register(server, name)
    client.post(f"/models/{name}/promote", json={"version": 1, "alias": "champion"})
    graph = client.get("/lineage", params={"uri": f"models:/{name}@champion"}).json()
    assert {n["kind"] for n in graph["nodes"]} == {"alias", "model_version", "run", "dataset"}
    assert graph["direction"] == "both"
    up = client.get(
        "/lineage", params={"uri": f"models:/{name}/1", "direction": "up", "depth": 1}
    ).json()
    assert len(up["nodes"]) == 2
    created = client.post("/webhooks", json={"url": "http://127.0.0.1:9/hook", "model": name})
    assert created.status_code == 201
    hook = created.json()
    assert len(hook["secret"]) == 64
    assert client.get(f"/webhooks/{hook['id']}").json()["secret"] is None
    assert hook["id"] in [w["id"] for w in client.get("/webhooks").json()]
    assert client.delete(f"/webhooks/{hook['id']}").status_code == 204
    assert hook["id"] not in [w["id"] for w in client.get("/webhooks").json()]
    assert client.get(f"/webhooks/{hook['id']}/deliveries").json() == []
