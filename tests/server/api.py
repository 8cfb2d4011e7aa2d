"""A real plinth server over HTTP for the server tests, and the problem+json assertion."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from plinth.server.problems import PROBLEM_MEDIA_TYPE


@dataclass
class Api:
    """An httpx client on ``/api/v1`` of a running server, on one database backend."""

    client: httpx.Client
    url: str
    backend: str
    data_dir: Path

    def new_run(self, **fields: Any) -> str:
        response = self.client.post("/runs", json=fields)
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    def get_run(self, run_id: str) -> dict[str, Any]:
        response = self.client.get(f"/runs/{run_id}")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def history(self, run_id: str, key: str) -> dict[str, Any]:
        response = self.client.get(f"/runs/{run_id}/metric-history", params={"key": key})
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


def metrics(keys: list[str], values: list[Any], steps: list[int]) -> dict[str, list[Any]]:
    """A columnar metric batch (timestamps 1000, 1001, ...)."""
    stamps = [1000 + i for i in range(len(steps))]
    return {"keys": keys, "values": values, "steps": steps, "timestamps": stamps}


def assert_problem(
    response: httpx.Response, status: int, field: str | None = None
) -> dict[str, Any]:
    """``response`` is an RFC 9457 problem with ``status``; ``field``, if given, is named in
    ``errors`` (exactly, or as the start of a dotted path such as ``tags.key``)."""
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"].split(";")[0] == PROBLEM_MEDIA_TYPE
    problem: dict[str, Any] = response.json()
    assert {"type", "title", "status", "detail", "errors"} <= problem.keys(), problem
    assert problem["status"] == status
    assert problem["type"].startswith("https://plinth.dev/problems/")
    assert isinstance(problem["detail"], str)
    assert problem["detail"]
    for error in problem["errors"]:
        assert set(error) == {"field", "message"}, problem
        assert error["message"], problem
    if field is not None:
        fields = [error["field"] for error in problem["errors"]]
        assert any(f == field or f.startswith(field + ".") for f in fields), (field, problem)
    return problem
