"""``RestRegistryStore``: the registry store over HTTP. Gates, compare-and-set and approval
rights are enforced by the server; this only carries requests and answers."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from pydantic import TypeAdapter

from plinth.client.http import HttpClient
from plinth.entities.common import Page, new_id
from plinth.entities.lineage import Direction, LineageGraph
from plinth.entities.registry import (
    Alias,
    AliasMove,
    Approver,
    ApproverCreate,
    Decision,
    DecisionCreate,
    GatePolicy,
    ModelGates,
    ModelVersion,
    ModelVersionCreate,
    ModelVersionUpdate,
    PromotionCreate,
    PromotionRequest,
    PromotionResult,
    RegisteredModel,
    RegisteredModelCreate,
    RegisteredModelUpdate,
    RequestStatus,
    RollbackCreate,
)
from plinth.entities.webhooks import Delivery, Webhook, WebhookCreate

_ALIASES = TypeAdapter(list[Alias])
_MOVES = TypeAdapter(list[AliasMove])
_APPROVERS = TypeAdapter(list[Approver])
_REQUESTS = TypeAdapter(list[PromotionRequest])
_WEBHOOKS = TypeAdapter(list[Webhook])
_DELIVERIES = TypeAdapter(list[Delivery])


def _model(name: str) -> str:
    return f"/models/{quote(name, safe='')}"


class RestRegistryStore:
    """Implements ``RegistryStore`` against a plinth server."""

    def __init__(self, http: HttpClient) -> None:
        self.http = http

    def _send(
        self,
        method: str,
        path: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> bytes:
        content = body.model_dump_json(exclude_none=True).encode() if body is not None else None
        headers = dict(headers or {})
        if body is not None:
            headers["Content-Type"] = "application/json"
        return self.http.request(method, path, content=content, headers=headers, **kwargs).content

    # models -----------------------------------------------------------------------------

    def create_model(self, spec: RegisteredModelCreate) -> RegisteredModel:
        return RegisteredModel.model_validate_json(self._send("POST", "/models", spec))

    def get_model(self, name: str) -> RegisteredModel:
        return RegisteredModel.model_validate_json(self._send("GET", _model(name)))

    def list_models(
        self,
        project: str | None = None,
        name_like: str | None = None,
        max_results: int = 100,
        page_token: str | None = None,
    ) -> Page[RegisteredModel]:
        params: dict[str, Any] = {"max_results": max_results}
        for key, value in (
            ("project", project),
            ("name_like", name_like),
            ("page_token", page_token),
        ):
            if value:
                params[key] = value
        content = self._send("GET", "/models", params=params)
        return Page[RegisteredModel].model_validate_json(content)

    def update_model(self, name: str, update: RegisteredModelUpdate) -> RegisteredModel:
        return RegisteredModel.model_validate_json(self._send("PATCH", _model(name), update))

    # versions ---------------------------------------------------------------------------

    def create_version(self, name: str, spec: ModelVersionCreate) -> ModelVersion:
        # every retry of this call carries the same key; as a header, which servers that
        # predate it ignore, rather than a body field they would refuse
        key = spec.request_id or new_id()
        spec = spec.model_copy(update={"request_id": None})
        headers = {"Idempotency-Key": key}
        content = self._send("POST", f"{_model(name)}/versions", spec, headers=headers)
        return ModelVersion.model_validate_json(content)

    def get_version(self, name: str, version: int) -> ModelVersion:
        content = self._send("GET", f"{_model(name)}/versions/{version}")
        return ModelVersion.model_validate_json(content)

    def get_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        content = self._send("GET", f"{_model(name)}/aliases/{quote(alias, safe='')}")
        return ModelVersion.model_validate_json(content)

    def list_versions(
        self, name: str, max_results: int = 100, page_token: str | None = None
    ) -> Page[ModelVersion]:
        params: dict[str, Any] = {"max_results": max_results}
        if page_token:
            params["page_token"] = page_token
        content = self._send("GET", f"{_model(name)}/versions", params=params)
        return Page[ModelVersion].model_validate_json(content)

    def update_version(self, name: str, version: int, update: ModelVersionUpdate) -> ModelVersion:
        content = self._send("PATCH", f"{_model(name)}/versions/{version}", update)
        return ModelVersion.model_validate_json(content)

    # aliases and promotion --------------------------------------------------------------

    def list_aliases(self, name: str) -> list[Alias]:
        return _ALIASES.validate_json(self._send("GET", f"{_model(name)}/aliases"))

    def alias_history(
        self, name: str, alias: str | None = None, max_results: int = 100
    ) -> list[AliasMove]:
        params: dict[str, Any] = {"max_results": max_results}
        if alias is not None:
            params["alias"] = alias
        return _MOVES.validate_json(self._send("GET", f"{_model(name)}/history", params=params))

    def promote(self, name: str, spec: PromotionCreate) -> PromotionResult:
        content = self._send("POST", f"{_model(name)}/promote", spec, retry=False)
        return PromotionResult.model_validate_json(content)

    def rollback(self, name: str, spec: RollbackCreate) -> AliasMove:
        content = self._send("POST", f"{_model(name)}/rollback", spec, retry=False)
        return AliasMove.model_validate_json(content)

    # gates, approvers, requests ---------------------------------------------------------

    def get_gates(self, name: str) -> ModelGates:
        return ModelGates.model_validate_json(self._send("GET", f"{_model(name)}/gates"))

    def set_gates(self, name: str, policy: GatePolicy) -> ModelGates:
        return ModelGates.model_validate_json(self._send("PUT", f"{_model(name)}/gates", policy))

    def list_approvers(self, name: str) -> list[Approver]:
        return _APPROVERS.validate_json(self._send("GET", f"{_model(name)}/approvers"))

    def add_approver(self, name: str, spec: ApproverCreate) -> Approver:
        content = self._send("POST", f"{_model(name)}/approvers", spec)
        return Approver.model_validate_json(content)

    def remove_approver(self, name: str, user: str, role: str) -> None:
        params = {"user": user, "role": role}
        self._send("DELETE", f"{_model(name)}/approvers", params=params)

    def list_requests(
        self, name: str, status: RequestStatus | None = None, max_results: int = 100
    ) -> list[PromotionRequest]:
        params: dict[str, Any] = {"max_results": max_results}
        if status is not None:
            params["status"] = status.value
        content = self._send("GET", f"{_model(name)}/promotions", params=params)
        return _REQUESTS.validate_json(content)

    def get_request(self, request_id: str) -> PromotionRequest:
        content = self._send("GET", f"/promotions/{quote(request_id, safe='')}")
        return PromotionRequest.model_validate_json(content)

    def decide(self, request_id: str, decision: Decision, spec: DecisionCreate) -> PromotionResult:
        path = f"/promotions/{quote(request_id, safe='')}/{decision.value}"
        return PromotionResult.model_validate_json(self._send("POST", path, spec, retry=False))

    # lineage ----------------------------------------------------------------------------

    def lineage(self, uri: str, direction: Direction, depth: int) -> LineageGraph:
        params = {"uri": uri, "direction": direction.value, "depth": depth}
        return LineageGraph.model_validate_json(self._send("GET", "/lineage", params=params))

    # webhooks ---------------------------------------------------------------------------

    def create_webhook(self, spec: WebhookCreate) -> Webhook:
        return Webhook.model_validate_json(self._send("POST", "/webhooks", spec))

    def list_webhooks(self) -> list[Webhook]:
        return _WEBHOOKS.validate_json(self._send("GET", "/webhooks"))

    def get_webhook(self, webhook_id: str) -> Webhook:
        return Webhook.model_validate_json(
            self._send("GET", f"/webhooks/{quote(webhook_id, safe='')}")
        )

    def delete_webhook(self, webhook_id: str) -> None:
        self._send("DELETE", f"/webhooks/{quote(webhook_id, safe='')}")

    def list_deliveries(self, webhook_id: str, max_results: int = 100) -> list[Delivery]:
        path = f"/webhooks/{quote(webhook_id, safe='')}/deliveries"
        return _DELIVERIES.validate_json(
            self._send("GET", path, params={"max_results": max_results})
        )
