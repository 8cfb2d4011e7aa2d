"""Registry rules on top of any ``RegistryStore``: the one API the SDK, CLI and server use.

It turns loose input (keyword arguments, URIs, gate text) into entities, with
``InvalidArgument`` naming the field; the store enforces what must hold on the server.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import ValidationError

from plinth.entities.lineage import Direction, LineageGraph
from plinth.entities.registry import (
    AliasMove,
    Approver,
    ApproverCreate,
    Decision,
    DecisionCreate,
    GatePolicy,
    ModelGates,
    ModelVersion,
    ModelVersionCreate,
    PromotionCreate,
    PromotionResult,
    RegisteredModel,
    RegisteredModelCreate,
    RollbackCreate,
)
from plinth.entities.webhooks import Webhook, WebhookCreate
from plinth.errors import InvalidArgument, NotFound
from plinth.registry.gates import parse_policy
from plinth.registry.lineage import MAX_DEPTH
from plinth.registry.store import RegistryStore
from plinth.registry.uris import parse_model_uri, parse_version
from plinth.tracking.service import build, invalid_from_validation


class RegistryService:
    """Registered models, versions, aliases, gates and webhooks, whichever store is below."""

    def __init__(self, store: RegistryStore) -> None:
        self.store = store

    # models and versions ----------------------------------------------------------------

    def create_model(
        self,
        name: str,
        *,
        project: str = "default",
        description: str = "",
        tags: Mapping[str, str] | None = None,
    ) -> RegisteredModel:
        spec = build(
            RegisteredModelCreate,
            name=name,
            project=project,
            description=description,
            tags=dict(tags or {}),
        )
        return self.store.create_model(spec)

    def register_model(self, source: str, name: str, *, description: str = "") -> ModelVersion:
        """Register the model logged at ``runs:/RUN_ID/PATH`` as ``name``'s next version
        (creating the model, owned by the caller, on first registration)."""
        build(RegisteredModelCreate, name=name)  # the name's rules, before any I/O
        spec = build(ModelVersionCreate, source=source, description=description)
        return self.store.create_version(name, spec)

    def resolve(
        self, name: str, version: int | None = None, alias: str | None = None
    ) -> ModelVersion:
        """The version a reference names: a number, an alias, or neither (the latest)."""
        if version is not None and alias is not None:
            raise InvalidArgument.for_field("alias", "name a version or an alias, not both")
        if alias is not None:
            return self.store.get_version_by_alias(name, alias)
        if version is None:
            latest = self.store.get_model(name).latest_version
            if latest is None:
                raise NotFound(f"model {name!r} has no versions")
            version = latest
        return self.store.get_version(name, version)

    def resolve_uri(self, uri: str) -> ModelVersion:
        """``models:/NAME/VERSION``, ``models:/NAME@ALIAS`` or ``models:/NAME`` (latest)."""
        ref = parse_model_uri(uri)
        return self.resolve(ref.name, ref.version, ref.alias)

    # promotion --------------------------------------------------------------------------

    def promote(
        self,
        name: str,
        version: int | str,
        alias: str,
        *,
        reason: str = "",
        expected_version: int | None = None,
    ) -> PromotionResult:
        """Move ``alias`` to ``version`` if every gate passes, else open a request.
        ``version`` may be a number or ``models:/NAME/VERSION`` of this same model."""
        spec = build(
            PromotionCreate,
            version=parse_version(version, name),
            alias=alias,
            reason=reason,
            expected_version=expected_version,
        )
        return self.store.promote(name, spec)

    def approve(self, request_id: str, comment: str = "") -> PromotionResult:
        spec = build(DecisionCreate, comment=comment)
        return self.store.decide(request_id, Decision.APPROVE, spec)

    def reject(self, request_id: str, comment: str = "") -> PromotionResult:
        spec = build(DecisionCreate, comment=comment)
        return self.store.decide(request_id, Decision.REJECT, spec)

    def rollback(self, name: str, alias: str, *, reason: str = "") -> AliasMove:
        return self.store.rollback(name, build(RollbackCreate, alias=alias, reason=reason))

    def set_gates(
        self, name: str, gates: GatePolicy | Sequence[Any] | Mapping[str, Any]
    ) -> ModelGates:
        """Replace a model's gates, given as a policy, a list of gates in text form or as
        mappings, or a parsed YAML document ``{"gates": [...]}``."""
        document = list(gates) if isinstance(gates, list | tuple) else gates
        return self.store.set_gates(name, parse_policy(document))

    def add_approver(self, name: str, user: str, role: str) -> Approver:
        return self.store.add_approver(name, build(ApproverCreate, user=user, role=role))

    # lineage and webhooks ---------------------------------------------------------------

    def lineage(
        self, uri: str, *, direction: Direction | str = Direction.BOTH, depth: int = MAX_DEPTH
    ) -> LineageGraph:
        try:
            way = Direction(direction)
        except ValueError:
            raise InvalidArgument.for_field("direction", "must be up, down or both") from None
        if not 1 <= depth <= MAX_DEPTH:
            raise InvalidArgument.for_field("depth", f"must be between 1 and {MAX_DEPTH}")
        return self.store.lineage(uri, way, depth)

    def add_webhook(
        self,
        url: str,
        *,
        events: Sequence[str] = (),
        model: str | None = None,
        secret: str | None = None,
        description: str = "",
    ) -> Webhook:
        fields = {
            "url": url,
            "events": list(events),
            "model": model,
            "secret": secret,
            "description": description,
        }
        try:
            spec = WebhookCreate.model_validate(fields)
        except ValidationError as exc:
            raise invalid_from_validation(exc) from None
        return self.store.create_webhook(spec)
