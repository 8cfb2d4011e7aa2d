"""The registry store contract. ``sql.SqlRegistryStore`` and ``client.registry.RestRegistryStore``
both implement it, so the SDK and CLI behave the same locally and against a server.

Rules that guard the registry (gates, compare-and-set on aliases, who may approve) live
behind this contract, on the server side of it: a client cannot skip a gate. Every write is
made on behalf of the actor the store was built for; unknown names raise ``NotFound``, bad
input ``InvalidArgument``, a lost race or a stale expectation ``Conflict``.
"""

from __future__ import annotations

from typing import Protocol

from plinth.entities.common import Page
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


class RegistryStore(Protocol):
    """Persistence and rules of registered models, versions, aliases and their events."""

    # models -----------------------------------------------------------------------------

    def create_model(self, spec: RegisteredModelCreate) -> RegisteredModel:
        """Create a model owned by the actor; ``AlreadyExists`` if the name is taken."""
        ...

    def get_model(self, name: str) -> RegisteredModel:
        """The model with its tags, aliases and latest version number."""
        ...

    def list_models(
        self,
        project: str | None = None,
        name_like: str | None = None,
        max_results: int = 100,
        page_token: str | None = None,
    ) -> Page[RegisteredModel]:
        """Models by name; ``name_like`` keeps names containing it (case-insensitive)."""
        ...

    def update_model(self, name: str, update: RegisteredModelUpdate) -> RegisteredModel:
        """Change a model's description or replace its tags."""
        ...

    # versions ---------------------------------------------------------------------------

    def create_version(self, name: str, spec: ModelVersionCreate) -> ModelVersion:
        """Register the model logged at ``spec.source`` as the model's next version,
        creating the model on first registration. The run must exist (``NotFound``) and
        hold a model manifest there (``InvalidArgument``)."""
        ...

    def get_version(self, name: str, version: int) -> ModelVersion:
        """One version, with the aliases that point at it."""
        ...

    def get_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        """The version an alias points at."""
        ...

    def list_versions(
        self, name: str, max_results: int = 100, page_token: str | None = None
    ) -> Page[ModelVersion]:
        """A model's versions, newest first."""
        ...

    def update_version(self, name: str, version: int, update: ModelVersionUpdate) -> ModelVersion:
        """Change a version's description or status (what it was built from never changes)."""
        ...

    # aliases and promotion --------------------------------------------------------------

    def list_aliases(self, name: str) -> list[Alias]:
        """A model's aliases, by name."""
        ...

    def alias_history(
        self, name: str, alias: str | None = None, max_results: int = 100
    ) -> list[AliasMove]:
        """Alias moves, newest first: who, when, why, and the gate results."""
        ...

    def promote(self, name: str, spec: PromotionCreate) -> PromotionResult:
        """Evaluate every gate for moving ``spec.alias`` to ``spec.version``: when all pass,
        move it (compare-and-set against the holder the gates saw, or against
        ``expected_version``; a lost race is a ``Conflict``); otherwise open a promotion
        request that records which gates failed and why."""
        ...

    def rollback(self, name: str, spec: RollbackCreate) -> AliasMove:
        """Move an alias back to the version it held before; ``Conflict`` if it has none."""
        ...

    # gates, approvers, requests ---------------------------------------------------------

    def get_gates(self, name: str) -> ModelGates:
        """The model's promotion gates (none until set)."""
        ...

    def set_gates(self, name: str, policy: GatePolicy) -> ModelGates:
        """Replace the model's promotion gates."""
        ...

    def list_approvers(self, name: str) -> list[Approver]:
        """Who holds which approval role for this model."""
        ...

    def add_approver(self, name: str, spec: ApproverCreate) -> Approver:
        """Give a user a role for this model (idempotent)."""
        ...

    def remove_approver(self, name: str, user: str, role: str) -> None:
        """Take a role away; ``NotFound`` if the user did not hold it."""
        ...

    def list_requests(
        self, name: str, status: RequestStatus | None = None, max_results: int = 100
    ) -> list[PromotionRequest]:
        """A model's promotion requests, newest first."""
        ...

    def get_request(self, request_id: str) -> PromotionRequest:
        """One promotion request with its approvals."""
        ...

    def decide(self, request_id: str, decision: Decision, spec: DecisionCreate) -> PromotionResult:
        """Approve or reject an open request as the actor, who must hold a role the
        request's approval gates name (``PermissionDenied``). An approval that makes every
        gate pass moves the alias."""
        ...

    # lineage ----------------------------------------------------------------------------

    def lineage(self, uri: str, direction: Direction, depth: int) -> LineageGraph:
        """The graph around a node (``dataset:...``, ``run:...``, ``models:/...``), walked
        ``depth`` steps up (what it was made from), down (what depends on it) or both."""
        ...

    # webhooks ---------------------------------------------------------------------------

    def create_webhook(self, spec: WebhookCreate) -> Webhook:
        """Send registry events to a URL; the answer carries the signing secret, once."""
        ...

    def list_webhooks(self) -> list[Webhook]:
        """Active webhooks, newest first (without their secrets)."""
        ...

    def get_webhook(self, webhook_id: str) -> Webhook:
        """One webhook (without its secret)."""
        ...

    def delete_webhook(self, webhook_id: str) -> None:
        """Stop a webhook; its delivery history stays, pending deliveries are dropped."""
        ...

    def list_deliveries(self, webhook_id: str, max_results: int = 100) -> list[Delivery]:
        """A webhook's deliveries, newest first, each with its attempts."""
        ...
