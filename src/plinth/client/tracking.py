"""``RestTrackingStore``: the tracking store over HTTP, with the offline spool.

Creating a run with a client-chosen id and logging a batch with an idempotency key are
safe to replay, so when the server stays unreachable they go to the spool instead of
failing, and the next successful write (or ``plinth sync``) sends them in order.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson

from plinth.client.http import HttpClient
from plinth.client.spool import Spool, SpooledRequest
from plinth.entities.common import Page, now_ms
from plinth.entities.tracking import (
    BatchResult,
    DatasetInput,
    Experiment,
    ExperimentCreate,
    MetricHistory,
    Project,
    Run,
    RunBatch,
    RunCreate,
    RunQuery,
    RunUpdate,
    ViewType,
    run_from_spec,
)
from plinth.errors import Conflict, Unauthenticated, Unavailable

logger = logging.getLogger("plinth.client")


class RestTrackingStore:
    """Implements ``TrackingStore`` against a plinth server."""

    def __init__(self, http: HttpClient, spool: Spool | None = None) -> None:
        self.http = http
        self.spool = spool

    # offline-capable writes -------------------------------------------------------------

    def sync(self) -> int:
        """Send what the spool holds; returns how many requests went through."""
        if self.spool is None:
            return 0
        return self.spool.replay(self._send_spooled)

    def _send_spooled(self, request: SpooledRequest) -> None:
        try:
            self._send(request.method, request.path, request.body, retry=False)
        except Conflict:
            # Another writer logged one of the batch's params differently, so the server
            # refused the batch whole; as online, the points and tags go on without params.
            rest = _without_params(request)
            if rest is None:
                raise
            logger.error("plinth refused the params of spooled %s; sent the rest", request.path)
            self._send(rest.method, rest.path, rest.body, retry=False)

    def _send(self, method: str, path: str, body: bytes, *, retry: bool = True) -> Any:
        headers = {"Content-Type": "application/json"}
        return self.http.request(method, path, content=body, headers=headers, retry=retry)

    def _write_or_spool(self, method: str, path: str, body: bytes) -> Any | None:
        """The server's answer, or None when the request went to the spool."""
        if self.spool is None:
            return self._send(method, path, body)
        if self.spool.pending():
            self.sync()
            if self.spool.pending():  # still unreachable: keep the order, queue behind
                self.spool.append(SpooledRequest(method, path, body))
                return None
        try:
            return self._send(method, path, body)
        except (Unavailable, Unauthenticated):  # kept until the server or the credentials are back
            self.spool.append(SpooledRequest(method, path, body))
            return None

    def create_run(self, spec: RunCreate) -> Run:
        body = spec.model_dump_json(by_alias=True).encode()
        if spec.run_id is None:
            return Run.model_validate_json(self._send("POST", "/runs", body).content)
        response = self._write_or_spool("POST", "/runs", body)
        if response is None:
            return _offline_run(spec)
        return Run.model_validate_json(response.content)

    def log_batch(self, run_id: str, batch: RunBatch) -> BatchResult:
        body = batch.model_dump_json(exclude_none=True).encode()
        path = f"/runs/{run_id}/batch"
        if batch.batch_id is None:
            return BatchResult.model_validate_json(self._send("POST", path, body).content)
        response = self._write_or_spool("POST", path, body)
        if response is None:
            return BatchResult(applied=True, points=batch.point_count, spooled=True)
        return BatchResult.model_validate_json(response.content)

    def log_inputs(self, run_id: str, inputs: list[DatasetInput]) -> None:
        body = orjson.dumps({"inputs": [i.model_dump(mode="json", by_alias=True) for i in inputs]})
        self._write_or_spool("POST", f"/runs/{run_id}/inputs", body)

    # everything else --------------------------------------------------------------------

    def list_projects(self) -> list[Project]:
        return [Project.model_validate(p) for p in self.http.get("/projects")]

    def create_project(self, name: str, description: str = "") -> Project:
        body = {"name": name, "description": description}
        return Project.model_validate(self.http.post("/projects", json=body))

    def create_experiment(self, spec: ExperimentCreate) -> Experiment:
        return Experiment.model_validate(self.http.post("/experiments", json=spec.model_dump()))

    def get_experiment(self, experiment_id: str) -> Experiment:
        return Experiment.model_validate(self.http.get(f"/experiments/{experiment_id}"))

    def get_experiment_by_name(self, project: str, name: str) -> Experiment:
        params = {"project": project, "name": name}
        return Experiment.model_validate(self.http.get("/experiments/by-name", params=params))

    def list_experiments(
        self,
        project: str | None = None,
        view: ViewType = ViewType.ACTIVE,
        max_results: int = 100,
        page_token: str | None = None,
    ) -> Page[Experiment]:
        params: dict[str, Any] = {"view": view.value, "max_results": max_results}
        if project is not None:
            params["project"] = project
        if page_token:
            params["page_token"] = page_token
        return Page[Experiment].model_validate(self.http.get("/experiments", params=params))

    def delete_experiment(self, experiment_id: str) -> None:
        self.http.delete(f"/experiments/{experiment_id}")

    def restore_experiment(self, experiment_id: str) -> None:
        self.http.post(f"/experiments/{experiment_id}/restore")

    def get_run(self, run_id: str) -> Run:
        return Run.model_validate_json(self.http.request("GET", f"/runs/{run_id}").content)

    def update_run(self, run_id: str, update: RunUpdate) -> Run:
        body = update.model_dump_json(exclude_none=True).encode()
        return Run.model_validate_json(self._send("PATCH", f"/runs/{run_id}", body).content)

    def delete_run(self, run_id: str) -> None:
        self.http.delete(f"/runs/{run_id}")

    def restore_run(self, run_id: str) -> None:
        self.http.post(f"/runs/{run_id}/restore")

    def get_metric_history(
        self,
        run_id: str,
        key: str,
        *,
        max_points: int | None = None,
        min_step: int | None = None,
        max_step: int | None = None,
    ) -> MetricHistory:
        params: dict[str, Any] = {"key": key}
        for name, value in (
            ("max_points", max_points),
            ("min_step", min_step),
            ("max_step", max_step),
        ):
            if value is not None:
                params[name] = value
        response = self.http.request("GET", f"/runs/{run_id}/metric-history", params=params)
        return MetricHistory.model_validate_json(response.content)

    def search_runs(self, query: RunQuery) -> Page[Run]:
        response = self._send("POST", "/runs/search", query.model_dump_json().encode())
        return Page[Run].model_validate_json(response.content)


def _offline_run(spec: RunCreate) -> Run:
    """What the caller sees for a run created while the server was unreachable."""
    assert spec.run_id is not None
    return run_from_spec(
        spec,
        run_id=spec.run_id,
        experiment_id=spec.experiment_id or "",
        project=spec.project,
        name=spec.name or spec.run_id[:8],
        start_time=spec.start_time or now_ms(),
        created_by="offline",
    )


def _without_params(request: SpooledRequest) -> SpooledRequest | None:
    """A spooled run batch without its params, under an idempotency key derived from the
    original's (so replaying this again, after a crash, still applies it once); None when
    the request is not a batch with params."""
    if request.method != "POST" or not request.path.endswith("/batch"):
        return None
    body = orjson.loads(request.body)
    if not isinstance(body, dict) or not body.get("params") or body.get("create") is not None:
        return None
    batch_id = body.get("batch_id")
    if not isinstance(batch_id, str):
        return None
    body.update(params={}, batch_id=f"{batch_id[:56]}-noparam")
    return SpooledRequest(request.method, request.path, orjson.dumps(body))
