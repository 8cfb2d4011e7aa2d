"""Bad requests get RFC 9457 problems that name the field, never a 500, and write nothing.

Every test runs through the real HTTP API of a server on SQLite and on PostgreSQL (which,
unlike SQLite, refuses NUL characters and integers beyond 64 bits: those must be 400s too).
"""

from __future__ import annotations

import base64
import json
import socket
from typing import Any

import httpx
import pytest

from plinth.entities import limits
from tests.server.api import Api, assert_problem, metrics

UNKNOWN = "0123456789abcdef" * 2  # fixed: test ids must match across xdist workers

# method, path, JSON body: every route that names a run or an experiment that does not exist
UNKNOWN_OBJECT_REQUESTS: list[tuple[str, str, Any]] = [
    ("GET", f"/runs/{UNKNOWN}", None),
    ("PATCH", f"/runs/{UNKNOWN}", {"name": "renamed"}),
    ("DELETE", f"/runs/{UNKNOWN}", None),
    ("POST", f"/runs/{UNKNOWN}/restore", None),
    ("POST", f"/runs/{UNKNOWN}/batch", {"metrics": metrics(["m"], [1.0], [0])}),
    ("POST", f"/runs/{UNKNOWN}/batch", {"batch_id": "unknown-run-1", "params": {"a": 1}}),
    ("POST", f"/runs/{UNKNOWN}/inputs", {"inputs": [{"name": "d", "digest": "abc"}]}),
    ("GET", f"/runs/{UNKNOWN}/metric-history?key=m", None),
    ("GET", f"/runs/compare?run_ids={UNKNOWN}", None),
    ("GET", f"/runs/{UNKNOWN}/artifacts", None),
    ("GET", f"/runs/{UNKNOWN}/artifacts/model.pkl", None),
    ("PUT", f"/runs/{UNKNOWN}/artifacts/model.pkl", None),
    ("GET", f"/experiments/{UNKNOWN}", None),
    ("DELETE", f"/experiments/{UNKNOWN}", None),
    ("POST", f"/experiments/{UNKNOWN}/restore", None),
    ("GET", "/experiments/by-name?name=no-such-experiment", None),
    ("POST", "/runs", {"experiment_id": UNKNOWN}),
    ("POST", "/runs", {"parent_run_id": UNKNOWN}),
    ("POST", "/experiments", {"name": "orphan", "project": "no-such-project"}),
    ("GET", f"/runs/{'x' * 64}", None),  # not even an id's shape: still simply unknown
]


def _send(api: Api, method: str, path: str, body: Any) -> httpx.Response:
    if method == "PUT":
        return api.client.put(path, content=b"bytes")
    return api.client.request(method, path, json=body)


@pytest.mark.parametrize(("method", "path", "body"), UNKNOWN_OBJECT_REQUESTS)
def test_unknown_ids_are_404_problems(api: Api, method: str, path: str, body: Any) -> None:
    problem = assert_problem(_send(api, method, path, body), 404)
    assert problem["type"] == "https://plinth.dev/problems/not-found"
    assert problem["instance"] == "/api/v1" + path.split("?")[0]


def test_unknown_routes_and_artifacts_are_404_problems(api: Api) -> None:
    assert_problem(httpx.get(f"{api.url}/api/v1/no/such/route"), 404)
    run_id = api.new_run()
    problem = assert_problem(api.client.get(f"/runs/{run_id}/artifacts/missing.txt"), 404)
    assert "missing.txt" in problem["detail"]
    assert_problem(api.client.put(f"/runs/{run_id}"), 405)


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/experiments", {"name": ""}, "name"),
        ("/experiments", {"name": "x" * (limits.MAX_NAME_LENGTH + 1)}, "name"),
        ("/experiments", {"name": "tab\tinside"}, "name"),
        ("/experiments", {"name": "ok", "project": "bad\nproject"}, "project"),
        ("/experiments", {"name": "ok", "tags": {"bad key!": "v"}}, "tags"),
        ("/experiments", {"name": 42}, "name"),
        ("/experiments", {}, "name"),
        ("/experiments", {"name": "ok", "colour": "blue"}, "colour"),
        ("/projects", {"name": "\x7f"}, "name"),
        ("/runs", {"name": "x" * (limits.MAX_NAME_LENGTH + 1)}, "name"),
        ("/runs", {"run_id": "not-32-hex"}, "run_id"),
        ("/runs", {"params": {"": 1}}, "params"),
        ("/runs", {"tags": {"k" * (limits.MAX_NAME_LENGTH + 1): "v"}}, "tags"),
        ("/runs", {"start_time": -1}, "start_time"),
        ("/runs/search", {"max_results": limits.MAX_RESULTS + 1}, "max_results"),
        ("/runs/search", {"filter": "metrics.loss >"}, "filter"),
        ("/runs/search", {"page_token": "forged"}, "page_token"),
    ],
)
def test_invalid_input_names_the_field(api: Api, path: str, body: Any, field: str) -> None:
    assert_problem(api.client.post(path, json=body), 400, field)


@pytest.mark.parametrize(
    ("batch", "field"),
    [
        ({"params": {"big": "x" * (limits.MAX_PARAM_VALUE_LENGTH + 1)}}, "params"),
        ({"params": {"big": ["x" * limits.MAX_PARAM_VALUE_LENGTH]}}, "params"),
        ({"params": {f"p{i}": i for i in range(limits.MAX_BATCH_PARAMS + 1)}}, "params"),
        ({"tags": {"note": "x" * (limits.MAX_TAG_VALUE_LENGTH + 1)}}, "tags.note"),
        ({"tags": {"bad key!": "v"}}, "tags"),
        ({"update": {"notes": "x" * (limits.MAX_NOTES_LENGTH + 1)}}, "update.notes"),
        ({"update": {"status": "exploded"}}, "update.status"),
        (
            {
                "metrics": {
                    "keys": ["a", "b"],
                    "values": [1.0],
                    "steps": [0, 1],
                    "timestamps": [1, 2],
                }
            },
            "metrics.values",
        ),
        ({"metrics": {"keys": ["a"], "values": [1.0], "steps": [0]}}, "metrics.timestamps"),
        ({"metrics": metrics(["bad key!"], [1.0], [0])}, "metrics.keys"),
        ({"metrics": metrics(["m"], ["not a number"], [0])}, "metrics.values"),
        ({"metrics": metrics(["m"], [1.0], [2**63])}, "metrics.steps"),
        (
            {"metrics": {"keys": ["m"], "values": [1.0], "steps": [0], "timestamps": [-1]}},
            "metrics.timestamps",
        ),
        ({"batch_id": "short"}, "batch_id"),
        ({"extra": True}, "extra"),
    ],
)
def test_a_malformed_batch_is_refused_whole(api: Api, batch: dict[str, Any], field: str) -> None:
    """Valid parts ride along with the bad one; afterwards the run holds none of them."""
    run_id = api.new_run()
    body = {
        "metrics": metrics(["ok"], [1.0], [0]),
        "params": {"fine": 1},
        "tags": {"fine": "yes"},
        **batch,
    }
    assert_problem(api.client.post(f"/runs/{run_id}/batch", json=body), 400, field)
    run = api.get_run(run_id)
    assert (run["metrics"], run["params"], run["tags"]) == ({}, {}, {})
    assert api.history(run_id, "ok")["total_points"] == 0


def test_a_batch_that_conflicts_in_the_database_writes_nothing(api: Api) -> None:
    """The param conflict is found inside the transaction, after other rows were written."""
    run_id = api.new_run(params={"lr": 0.1})
    body = {
        "params": {"new": 1, "lr": 0.2},
        "tags": {"t": "v"},
        "metrics": metrics(["loss"], [0.5], [0]),
        "update": {"status": "finished"},
    }
    problem = assert_problem(api.client.post(f"/runs/{run_id}/batch", json=body), 409, "params.lr")
    assert "0.1" in problem["errors"][0]["message"]
    run = api.get_run(run_id)
    assert (run["params"], run["tags"], run["metrics"]) == ({"lr": 0.1}, {}, {})
    assert run["status"] == "running"


@pytest.mark.parametrize(
    "content",
    [b'{"metrics": ', b"[1, 2]", b"null", b"", b"\xff\xfe", b'{"params": {"a": 1e999}}'],
)
def test_unparsable_bodies_are_400(api: Api, content: bytes) -> None:
    run_id = api.new_run()
    response = api.client.post(
        f"/runs/{run_id}/batch", content=content, headers={"Content-Type": "application/json"}
    )
    assert_problem(response, 400, "body")
    assert api.get_run(run_id)["params"] == {}


NUL_REQUESTS: list[tuple[str, str, Any, str]] = [
    ("POST", "/experiments", {"name": "n", "description": "a\x00b"}, "description"),
    ("POST", "/experiments", {"name": "n", "tags": {"t": "\x00"}}, "tags.t"),
    ("POST", "/experiments", {"name": "a\x00b"}, "name"),
    ("POST", "/projects", {"name": "p", "description": "\x00"}, "description"),
    ("POST", "/runs", {"notes": "\x00"}, "notes"),
    ("POST", "/runs", {"user": "\x00"}, "user"),
    ("POST", "/runs", {"experiment_id": "\x00"}, "experiment_id"),
    ("POST", "/runs", {"source": {"script": "/x\x00.py"}}, "source.script"),
    ("POST", "/runs", {"params": {"p": "\x00"}}, "params"),
    ("POST", "{run}/batch", {"tags": {"t": "x\x00y"}}, "tags.t"),
    ("POST", "{run}/batch", {"params": {"p": "x\x00y"}}, "params"),
    ("POST", "{run}/batch", {"update": {"notes": "\x00"}}, "update.notes"),
    ("POST", "{run}/batch", {"batch_id": "batch-id\x00"}, "batch_id"),
    ("POST", "{run}/batch", {"metrics": metrics(["m\x00"], [1.0], [0])}, "metrics.keys"),
    ("POST", "{run}/inputs", {"inputs": [{"name": "d", "digest": "\x00"}]}, "inputs.0.digest"),
    ("PATCH", "{run}", {"notes": "\x00"}, "notes"),
    ("POST", "/runs/search", {"filter": "params.a = '\x00'"}, "filter"),
    ("POST", "/runs/search", {"experiment_ids": ["\x00"]}, "experiment_ids.0"),
    ("POST", "/runs/search", {"project": "\x00"}, "project"),
    ("GET", "/runs/%00", None, "run_id"),
    ("GET", "/runs/%00/artifacts", None, "run_id"),
    ("GET", "/experiments/%00", None, "experiment_id"),
    ("GET", "/experiments?project=%00", None, "project"),
    ("GET", "/experiments/by-name?name=%00", None, "name"),
    ("GET", "/runs/compare?run_ids=%00", None, "run_ids.0"),
    ("GET", "{run}/metric-history?key=%00", None, "key"),
    ("GET", "{run}/artifacts?path=a%00b", None, "path"),
]


@pytest.mark.parametrize(("method", "path", "body", "field"), NUL_REQUESTS)
def test_nul_characters_are_400_on_every_backend(
    api: Api, method: str, path: str, body: Any, field: str
) -> None:
    run_id = api.new_run()
    path = path.replace("{run}", f"/runs/{run_id}")
    assert_problem(api.client.request(method, path, json=body), 400, field)
    run = api.get_run(run_id)
    assert (run["params"], run["tags"], run["notes"]) == ({}, {}, "")


def _page_token(offset: int) -> str:
    raw = json.dumps({"offset": offset}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        (
            "POST",
            "{run}/inputs",
            {"inputs": [{"name": "d", "digest": "x", "num_rows": 2**63}]},
            "inputs.0.num_rows",
        ),
        ("POST", "{run}/batch", {"metrics": metrics(["m"], [1.0], [2**64])}, "metrics.steps"),
        ("POST", "{run}/batch", {"update": {"end_time": 2**64}}, "update.end_time"),
        ("POST", "/runs", {"start_time": 10**30}, "start_time"),
        ("POST", "/runs/search", {"page_token": _page_token(2**63)}, "page_token"),
        ("GET", f"/experiments?page_token={_page_token(2**63 + 1)}", None, "page_token"),
        ("GET", f"/experiments?max_results={10**30}", None, "max_results"),
        ("GET", f"{{run}}/metric-history?key=m&max_points={10**30}", None, "max_points"),
        ("GET", f"{{run}}/metric-history?key=m&min_step={-(2**63)}", None, "min_step"),
    ],
)
def test_huge_integers_are_400(api: Api, method: str, path: str, body: Any, field: str) -> None:
    run_id = api.new_run()
    path = path.replace("{run}", f"/runs/{run_id}")
    assert_problem(api.client.request(method, path, json=body), 400, field)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"a": 2**63}, "params"),
        ({"a": -(2**63) - 1}, "params"),
        ({"a": 10**30}, "params"),
        ({"a": [1, {"b": 2**70}]}, "params"),
        ({"a": 10**400}, "body"),  # not even a double: the JSON itself is refused
    ],
    ids=["2**63", "-2**63-1", "10**30", "nested-2**70", "10**400"],
)
def test_integer_params_beyond_64_bits_are_400_not_floats(
    api: Api, params: Any, field: str
) -> None:
    """A JSON parser would round them to floats: the param must not silently change type."""
    run_id = api.new_run()
    assert_problem(api.client.post(f"/runs/{run_id}/batch", json={"params": params}), 400, field)
    assert_problem(api.client.post("/runs", json={"params": params}), 400, field)
    assert api.get_run(run_id)["params"] == {}


def test_floats_as_large_as_that_are_still_floats(api: Api) -> None:
    run_id = api.new_run(params={"big": 1e30, "listed": [-1e19]})
    assert api.get_run(run_id)["params"] == {"big": 1e30, "listed": [-1e19]}


def test_extreme_but_valid_values_round_trip(api: Api) -> None:
    """The widest steps, 64-bit counts and ints: stored, read back exactly, downsampled."""
    run_id = api.new_run(params={"max": 2**63 - 1, "min": -(2**63), "big_list": [2**62]})
    low, high = -(2**62), 2**62
    body = {"metrics": metrics(["m"] * 3, [1.0, 2.0, 3.0], [low, 0, high])}
    assert api.client.post(f"/runs/{run_id}/batch", json=body).status_code == 200
    inputs = {"inputs": [{"name": "d", "digest": "abc", "num_rows": 2**63 - 1}]}
    assert api.client.post(f"/runs/{run_id}/inputs", json=inputs).status_code == 204
    run = api.get_run(run_id)
    assert run["params"] == {"max": 2**63 - 1, "min": -(2**63), "big_list": [2**62]}
    assert run["inputs"][0]["num_rows"] == 2**63 - 1
    assert run["metrics"]["m"]["step"] == high
    full = api.history(run_id, "m")
    assert (full["steps"], full["values"]) == ([low, 0, high], [1.0, 2.0, 3.0])
    response = api.client.get(
        f"/runs/{run_id}/metric-history", params={"key": "m", "max_points": 2}
    )
    assert response.status_code == 200, response.text
    sampled = response.json()
    assert sampled["downsampled"]
    assert sampled["total_points"] == 3
    assert 1 <= len(sampled["steps"]) <= 2
    assert (min(sampled["values_min"]), max(sampled["values_max"])) == (1.0, 3.0)


TRAVERSALS = [
    "../escaped.txt",
    "a/../../escaped.txt",
    "..%2Fescaped.txt",
    "%2E%2E/escaped.txt",
    "a/..%2F..%2Fescaped.txt",
    "%2Fetc%2Fpasswd",
    "/etc/passwd",  # the request target reads "artifacts//etc/passwd"
    "a%5C..%5Cescaped.txt",
    "a\\b.txt",
    "a/%00.txt",
]


def _raw_request(api: Api, method: str, target: str, body: bytes = b"") -> httpx.Response:
    """Send the request target byte for byte over a socket: httpx would resolve ``..``."""
    host, port = api.url.removeprefix("http://").rsplit(":", 1)
    head = (
        f"{method} {target} HTTP/1.1\r\nHost: {host}\r\nContent-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    )
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(head.encode() + body)
        received = b"".join(iter(lambda: sock.recv(65536), b""))
    raw_head, _, content = received.partition(b"\r\n\r\n")
    status_line, *header_lines = raw_head.decode("latin-1").split("\r\n")
    headers = [tuple(line.split(": ", 1)) for line in header_lines]
    return httpx.Response(int(status_line.split()[1]), headers=headers, content=content)


@pytest.mark.parametrize("path", TRAVERSALS)
def test_artifact_paths_cannot_escape_the_run(api: Api, path: str) -> None:
    run_id = api.new_run()
    target = f"/api/v1/runs/{run_id}/artifacts/{path}"
    assert_problem(_raw_request(api, "PUT", target, b"secret"), 400, "path")
    assert_problem(_raw_request(api, "GET", target), 400, "path")
    assert api.client.get(f"/runs/{run_id}/artifacts").json() == []
    assert not list(api.data_dir.rglob("escaped.txt"))
    assert not list(api.data_dir.rglob("passwd"))


@pytest.mark.parametrize("prefix", ["../", "/etc", "a/../..", "a\\b"])
def test_artifact_listing_cannot_escape_the_run(api: Api, prefix: str) -> None:
    run_id = api.new_run()
    response = api.client.get(f"/runs/{run_id}/artifacts", params={"path": prefix})
    assert_problem(response, 400, "path")


def test_a_clean_artifact_path_still_works(api: Api) -> None:
    run_id = api.new_run()
    response = _raw_request(api, "PUT", f"/api/v1/runs/{run_id}/artifacts/./dir//model.bin", b"w")
    assert response.status_code == 200, response.text
    assert response.json()["path"] == "dir/model.bin"
    assert api.client.get(f"/runs/{run_id}/artifacts/dir/model.bin").content == b"w"
