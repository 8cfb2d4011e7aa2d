"""The model registry: models, versions, aliases, promotion with gates, approvals, rollback."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from plinth.entities.common import Page
from plinth.entities.limits import MAX_RESULTS
from plinth.entities.registry import (
    Alias,
    AliasMove,
    AliasName,
    Approver,
    ApproverCreate,
    Decision,
    DecisionCreate,
    GatePolicy,
    ModelGates,
    ModelName,
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
    VersionNumber,
)
from plinth.entities.tracking import Id, Key, Name, Text
from plinth.errors import InvalidArgument
from plinth.server.deps import IdempotencyKey, RegistryDep
from plinth.server.routing import OrjsonRoute

router = APIRouter(tags=["registry"], route_class=OrjsonRoute)

MaxResults = Annotated[int, Query(ge=1, le=MAX_RESULTS)]
PageToken = Annotated[str | None, Query(max_length=1000)]
Model = ModelName


@router.get("/models")
def list_models(
    registry: RegistryDep,
    project: Annotated[Text | None, Query(max_length=250)] = None,
    name_like: Annotated[Text | None, Query(max_length=250)] = None,
    max_results: MaxResults = 100,
    page_token: PageToken = None,
) -> Page[RegisteredModel]:
    """Models by name; ``name_like`` keeps names containing it."""
    return registry.store.list_models(project, name_like, max_results, page_token)


@router.post("/models", status_code=status.HTTP_201_CREATED)
def create_model(spec: RegisteredModelCreate, registry: RegistryDep) -> RegisteredModel:
    return registry.store.create_model(spec)


@router.get("/models/{name}")
def get_model(name: Model, registry: RegistryDep) -> RegisteredModel:
    return registry.store.get_model(name)


@router.patch("/models/{name}")
def update_model(
    name: Model, update: RegisteredModelUpdate, registry: RegistryDep
) -> RegisteredModel:
    return registry.store.update_model(name, update)


@router.post("/models/{name}/versions", status_code=status.HTTP_201_CREATED)
def create_version(
    name: Model,
    spec: ModelVersionCreate,
    registry: RegistryDep,
    idempotency_key: IdempotencyKey = None,
) -> ModelVersion:
    """Register the model logged at ``source`` (``runs:/RUN_ID/PATH``) as the next version;
    the model is created on its first registration. A retry with the same ``request_id``
    (or ``Idempotency-Key`` header) returns the version the first attempt registered."""
    if idempotency_key and spec.request_id and idempotency_key != spec.request_id:
        raise InvalidArgument.for_field(
            "request_id", "differs from the Idempotency-Key header: send one key"
        )
    if idempotency_key and not spec.request_id:
        spec = spec.model_copy(update={"request_id": idempotency_key})
    return registry.store.create_version(name, spec)


@router.get("/models/{name}/versions")
def list_versions(
    name: Model,
    registry: RegistryDep,
    max_results: MaxResults = 100,
    page_token: PageToken = None,
) -> Page[ModelVersion]:
    return registry.store.list_versions(name, max_results, page_token)


@router.get("/models/{name}/versions/{version}")
def get_version(name: Model, version: VersionNumber, registry: RegistryDep) -> ModelVersion:
    return registry.store.get_version(name, version)


@router.patch("/models/{name}/versions/{version}")
def update_version(
    name: Model, version: VersionNumber, update: ModelVersionUpdate, registry: RegistryDep
) -> ModelVersion:
    """Change a version's description or status (``archived`` versions are never promoted)."""
    return registry.store.update_version(name, version, update)


@router.get("/models/{name}/aliases")
def list_aliases(name: Model, registry: RegistryDep) -> list[Alias]:
    return registry.store.list_aliases(name)


@router.get("/models/{name}/aliases/{alias}")
def get_version_by_alias(name: Model, alias: AliasName, registry: RegistryDep) -> ModelVersion:
    """The version the alias points at."""
    return registry.store.get_version_by_alias(name, alias)


@router.get("/models/{name}/history")
def alias_history(
    name: Model,
    registry: RegistryDep,
    alias: Annotated[AliasName | None, Query()] = None,
    max_results: MaxResults = 100,
) -> list[AliasMove]:
    """Alias moves, newest first: who, when, why and the gate results."""
    return registry.store.alias_history(name, alias, max_results)


@router.post("/models/{name}/promote")
def promote(name: Model, spec: PromotionCreate, registry: RegistryDep) -> PromotionResult:
    """Evaluate the gates: all pass, the alias moves (``moved``); otherwise a promotion
    request opens, listing the gates that failed. A lost race is a 409."""
    return registry.store.promote(name, spec)


@router.post("/models/{name}/rollback")
def rollback(name: Model, spec: RollbackCreate, registry: RegistryDep) -> AliasMove:
    """Move the alias back to the version it held before."""
    return registry.store.rollback(name, spec)


@router.get("/models/{name}/gates")
def get_gates(name: Model, registry: RegistryDep) -> ModelGates:
    return registry.store.get_gates(name)


@router.put("/models/{name}/gates")
def set_gates(name: Model, policy: GatePolicy, registry: RegistryDep) -> ModelGates:
    return registry.store.set_gates(name, policy)


@router.get("/models/{name}/approvers")
def list_approvers(name: Model, registry: RegistryDep) -> list[Approver]:
    return registry.store.list_approvers(name)


@router.post("/models/{name}/approvers", status_code=status.HTTP_201_CREATED)
def add_approver(name: Model, spec: ApproverCreate, registry: RegistryDep) -> Approver:
    return registry.store.add_approver(name, spec)


@router.delete("/models/{name}/approvers", status_code=status.HTTP_204_NO_CONTENT)
def remove_approver(
    name: Model,
    registry: RegistryDep,
    user: Annotated[Name, Query()],
    role: Annotated[Key, Query()],
) -> None:
    registry.store.remove_approver(name, user, role)


@router.get("/models/{name}/promotions")
def list_requests(
    name: Model,
    registry: RegistryDep,
    status: RequestStatus | None = None,
    max_results: MaxResults = 100,
) -> list[PromotionRequest]:
    return registry.store.list_requests(name, status, max_results)


@router.get("/promotions/{request_id}")
def get_request(request_id: Id, registry: RegistryDep) -> PromotionRequest:
    return registry.store.get_request(request_id)


@router.post("/promotions/{request_id}/approve")
def approve(request_id: Id, spec: DecisionCreate, registry: RegistryDep) -> PromotionResult:
    """Approve as the caller, who must hold a role the request's approval gates name; the
    approval that lets every gate pass moves the alias."""
    return registry.store.decide(request_id, Decision.APPROVE, spec)


@router.post("/promotions/{request_id}/reject")
def reject(request_id: Id, spec: DecisionCreate, registry: RegistryDep) -> PromotionResult:
    return registry.store.decide(request_id, Decision.REJECT, spec)
