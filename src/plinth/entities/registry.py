"""Model registry: registered models, immutable versions, aliases with their history,
promotion gates, promotion requests and approvals."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, ConfigDict, Field

from plinth.entities import limits
from plinth.entities.common import Entity
from plinth.entities.models import ScanStatus, Signature
from plinth.entities.tracking import Key, Name, Tags, Text

MODEL_NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
"""Model names: letters, digits, ``_ . -`` (no ``/`` or ``@``: they delimit model URIs)."""
ALIAS_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_\-]{0,63}$")
"""Alias names: a letter, then letters, digits, ``_`` and ``-``; 64 characters at most."""
RESERVED_ALIASES = re.compile(r"^(latest|v\d+)$", re.IGNORECASE)
"""``latest`` and ``v3`` would read as version references in ``models:/NAME@...``."""


def _check_model_name(name: str) -> str:
    if not name or len(name) > limits.MAX_NAME_LENGTH:
        raise ValueError(f"model name must be 1 to {limits.MAX_NAME_LENGTH} characters")
    if not MODEL_NAME_PATTERN.match(name):
        raise ValueError(
            f"model name {name!r} may only contain letters, digits, '_', '.' and '-', "
            "and must start with a letter or digit"
        )
    return name


def _check_alias(alias: str) -> str:
    if not ALIAS_PATTERN.match(alias):
        raise ValueError(
            f"alias {alias!r} must start with a letter and hold only letters, digits, '_' "
            "and '-' (64 characters at most)"
        )
    if RESERVED_ALIASES.match(alias):
        raise ValueError(f"alias {alias!r} is reserved (it reads as a version reference)")
    return alias


ModelName = Annotated[str, AfterValidator(_check_model_name)]
AliasName = Annotated[str, AfterValidator(_check_alias)]
MAX_VERSION = 2**31 - 1
VersionNumber = Annotated[int, Field(ge=1, le=MAX_VERSION)]
Comment = Annotated[Text, Field(max_length=10_000)]


class RegistryEntity(Entity):
    """Registry objects carry metric snapshots that may be NaN or ±inf (strings on the wire)."""

    model_config = ConfigDict(frozen=True, extra="forbid", ser_json_inf_nan="strings")


class VersionStatus(StrEnum):
    READY = "ready"
    ARCHIVED = "archived"
    """Kept for lineage and rollback history, but never promoted again."""


class RegisteredModelCreate(RegistryEntity):
    name: ModelName
    project: Name = "default"
    description: Comment = ""
    tags: Tags = Field(default_factory=dict)


class RegisteredModelUpdate(RegistryEntity):
    description: Comment | None = None
    tags: Tags | None = Field(default=None, description="Replaces every tag when given.")


class RegisteredModel(RegistryEntity):
    name: str
    project: str
    description: str = ""
    tags: dict[str, str] = Field(default_factory=dict)
    owner: str
    created_at: int
    updated_at: int
    latest_version: int | None = None
    aliases: dict[str, int] = Field(default_factory=dict)


class ModelVersionCreate(RegistryEntity):
    """Register a logged model: ``source`` is ``runs:/RUN_ID/PATH`` of a model directory."""

    source: Text = Field(min_length=8, max_length=2048)
    description: Comment = ""
    request_id: Text | None = Field(
        default=None,
        min_length=8,
        max_length=64,
        description="Idempotency key: a retry with the same key returns the version the "
        "first attempt registered instead of registering another.",
    )


class VersionInput(RegistryEntity):
    """A data set the source run read, copied into the version for lineage and gates."""

    project: str
    name: str
    digest: str
    context: str


class VersionSnapshot(RegistryEntity):
    """What registration copies from the source run and its model manifest."""

    project: str
    run_id: str
    artifact_path: str
    digest: str = Field(description="sha256 of the model's manifest: the version's identity.")
    flavor: str
    format: str
    signature: Signature | None = None
    scan: ScanStatus = ScanStatus.NOT_SCANNED
    metrics: dict[str, float] = Field(default_factory=dict)
    inputs: list[VersionInput] = Field(default_factory=list)


class ModelVersionUpdate(RegistryEntity):
    description: Comment | None = None
    status: VersionStatus | None = None


class ModelVersion(RegistryEntity):
    """One immutable registered version of a model."""

    name: str
    version: int
    source_uri: str = Field(description="runs:/RUN_ID/PATH the version was registered from.")
    run_id: str
    artifact_path: str
    digest: str
    flavor: str
    format: str
    signature: Signature | None = None
    scan: ScanStatus = ScanStatus.NOT_SCANNED
    metrics: dict[str, float] = Field(default_factory=dict)
    inputs: list[VersionInput] = Field(default_factory=list)
    status: VersionStatus = VersionStatus.READY
    description: str = ""
    aliases: list[str] = Field(default_factory=list)
    created_by: str
    created_at: int

    @property
    def uri(self) -> str:
        return f"models:/{self.name}/{self.version}"


class Alias(RegistryEntity):
    name: str
    alias: str
    version: int
    updated_at: int
    updated_by: str


# gates ------------------------------------------------------------------------------------

Comparison = Literal[">=", ">", "<=", "<", "==", "!="]
GateAliases = Annotated[
    list[AliasName],
    Field(default_factory=list, max_length=100, description="Aliases it guards; empty: all."),
]


class MetricGate(RegistryEntity):
    """The candidate's metric compared with a threshold: ``accuracy >= 0.9``."""

    kind: Literal["metric"] = "metric"
    metric: Key
    op: Comparison
    value: float = Field(allow_inf_nan=False)
    aliases: GateAliases


class BeatsHolderGate(RegistryEntity):
    """The candidate beats the alias's current holder on a metric by ``margin``, both
    measured on the same evaluation data set (same digest, context ``evaluation``)."""

    kind: Literal["beats_holder"] = "beats_holder"
    metric: Key
    margin: float = Field(default=0.0, ge=0, allow_inf_nan=False)
    higher_is_better: bool = True
    same_dataset: bool = True
    aliases: GateAliases


class SignatureGate(RegistryEntity):
    """The candidate accepts what the holder accepts and returns what it returns."""

    kind: Literal["signature_compatible"] = "signature_compatible"
    aliases: GateAliases


class ScanGate(RegistryEntity):
    """The candidate's files were scanned clean (or cannot run code when loaded)."""

    kind: Literal["scan_clean"] = "scan_clean"
    aliases: GateAliases


class ApprovalsGate(RegistryEntity):
    """``count`` distinct approvers holding ``role`` for this model approved the request."""

    kind: Literal["approvals"] = "approvals"
    count: int = Field(default=1, ge=1, le=100)
    role: Key
    aliases: GateAliases


Gate = Annotated[
    MetricGate | BeatsHolderGate | SignatureGate | ScanGate | ApprovalsGate,
    Field(discriminator="kind"),
]


class GatePolicy(RegistryEntity):
    """A model's promotion gates: data, stored with the model and evaluated on promotion."""

    gates: list[Gate] = Field(default_factory=list, max_length=100)


class ModelGates(RegistryEntity):
    name: str
    gates: list[Gate] = Field(default_factory=list)
    updated_by: str | None = None
    updated_at: int | None = None


class GateResult(RegistryEntity):
    gate: str = Field(description="The gate, as text: 'accuracy >= 0.9'.")
    kind: str
    passed: bool
    reason: str


class Approver(RegistryEntity):
    name: str
    user: str
    role: str
    added_by: str
    added_at: int


class ApproverCreate(RegistryEntity):
    user: Name
    role: Key


# promotion --------------------------------------------------------------------------------


class MoveKind(StrEnum):
    PROMOTE = "promote"
    APPROVED = "approved"
    """Moved when the last approval of a promotion request came in."""
    ROLLBACK = "rollback"


class AliasMove(RegistryEntity):
    """One change of an alias: who, when, why, and what the gates said."""

    id: str
    name: str
    alias: str
    from_version: int | None
    to_version: int
    kind: MoveKind
    actor: str
    at: int
    reason: str = ""
    gate_results: list[GateResult] = Field(default_factory=list)
    request_id: str | None = None


class PromotionCreate(RegistryEntity):
    version: VersionNumber
    alias: AliasName
    reason: Comment = ""
    expected_version: VersionNumber | None = Field(
        default=None,
        description="Move only if this version holds the alias now (compare-and-set).",
    )


class RequestStatus(StrEnum):
    OPEN = "open"
    APPLIED = "applied"
    REJECTED = "rejected"


class Decision(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"


class Approval(RegistryEntity):
    actor: str
    decision: Decision
    comment: str = ""
    at: int


class PromotionRequest(RegistryEntity):
    """A promotion whose gates did not all pass: it waits for approvals (or a rejection)."""

    id: str
    name: str
    version: int
    alias: str
    status: RequestStatus
    reason: str = ""
    from_version: int | None = None
    gate_results: list[GateResult] = Field(default_factory=list)
    approvals: list[Approval] = Field(default_factory=list)
    created_by: str
    created_at: int
    decided_by: str | None = None
    decided_at: int | None = None


class DecisionCreate(RegistryEntity):
    comment: Comment = ""


class PromotionResult(RegistryEntity):
    """``moved``: the alias moved (``move``); otherwise ``request`` waits for approvals."""

    moved: bool
    gate_results: list[GateResult] = Field(default_factory=list)
    move: AliasMove | None = None
    request: PromotionRequest | None = None


class RollbackCreate(RegistryEntity):
    alias: AliasName
    reason: Comment = ""
