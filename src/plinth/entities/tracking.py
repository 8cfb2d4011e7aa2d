"""Experiment tracking: projects, experiments, runs, params, metrics, tags and inputs."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    ConfigDict,
    Field,
    JsonValue,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from plinth.entities import limits
from plinth.entities.common import Entity
from plinth.entities.params import encode_param


def _check_key(key: str) -> str:
    if not key or len(key) > limits.MAX_NAME_LENGTH:
        raise ValueError(f"key must be 1 to {limits.MAX_NAME_LENGTH} characters")
    if not limits.KEY_PATTERN.match(key):
        raise ValueError(
            f"key {key!r} may only contain letters, digits, '_', '-', '.', '/', ':' and spaces"
        )
    return key


def _check_name(name: str) -> str:
    if not name or len(name) > limits.MAX_NAME_LENGTH:
        raise ValueError(f"name must be 1 to {limits.MAX_NAME_LENGTH} characters")
    if not limits.NAME_PATTERN.match(name):
        raise ValueError("name may not contain control characters")
    return name


def _check_text(text: str) -> str:
    if "\x00" in text:
        raise ValueError("may not contain NUL (\\x00) characters")
    return text


def _check_params(params: dict[str, Any]) -> dict[str, Any]:
    for key, value in params.items():
        # JSON parsers (orjson on the server) turn integers beyond 64 bits into floats, so
        # such a param could not keep its type over HTTP: refused in every mode alike.
        too_big = f"param {key!r} holds an integer beyond 64 bits; log it as a string"
        if isinstance(value, int) and not -(2**63) <= value < 2**63:
            raise ValueError(too_big)
        try:
            encoded, _ = encode_param(value)
        except TypeError:  # orjson cannot encode such an integer inside a list or object
            raise ValueError(too_big) from None
        if "\x00" in encoded:
            raise ValueError(f"param {key!r} may not contain NUL (\\x00) characters")
        if len(encoded) > limits.MAX_PARAM_VALUE_LENGTH:
            raise ValueError(
                f"param {key!r} is {len(encoded)} characters once encoded; "
                f"the limit is {limits.MAX_PARAM_VALUE_LENGTH}"
            )
    return params


Key = Annotated[str, AfterValidator(_check_key)]
Name = Annotated[str, AfterValidator(_check_name)]
Text = Annotated[str, AfterValidator(_check_text)]
"""Free text: anything but NUL, which PostgreSQL cannot store (nor compare with)."""
RunId = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{32}$")]
Id = Annotated[str, StringConstraints(min_length=1, max_length=64), AfterValidator(_check_text)]
"""An id as a client names it (unknown ones are 404s, not 400s); NUL is refused."""
TagValue = Annotated[
    str, StringConstraints(max_length=limits.MAX_TAG_VALUE_LENGTH), AfterValidator(_check_text)
]
ParamValue = JsonValue
"""A param keeps its type: str, int, float, bool, None, or a JSON list/object."""
Params = Annotated[
    dict[Key, ParamValue],
    Field(max_length=limits.MAX_BATCH_PARAMS),
    AfterValidator(_check_params),
]
Tags = Annotated[dict[Key, TagValue], Field(max_length=limits.MAX_BATCH_PARAMS)]

Timestamp = Annotated[int, Field(ge=0, le=2**53)]
Step = Annotated[int, Field(ge=-(2**62), le=2**62)]
Count = Annotated[int, Field(ge=0, le=2**63 - 1)]


DEFAULT_EXPERIMENT_ID = "0" * 32
"""The ``Default`` experiment of the ``default`` project, created with the schema."""


class RunStatus(StrEnum):
    RUNNING = "running"
    FINISHED = "finished"
    FAILED = "failed"
    KILLED = "killed"

    @property
    def is_terminal(self) -> bool:
        return self is not RunStatus.RUNNING


class LifecycleStage(StrEnum):
    ACTIVE = "active"
    DELETED = "deleted"


class ViewType(StrEnum):
    """Which objects a listing includes."""

    ACTIVE = "active"
    DELETED = "deleted"
    ALL = "all"


class TrackingEntity(Entity):
    """Tracking objects carry floats that may be NaN or ±inf: they go on the wire as strings."""

    model_config = ConfigDict(frozen=True, extra="forbid", ser_json_inf_nan="strings")


class Project(TrackingEntity):
    name: str
    description: str = ""
    created_at: int
    created_by: str


class ExperimentCreate(TrackingEntity):
    name: Name
    project: Name = "default"
    description: Text = Field(default="", max_length=limits.MAX_TAG_VALUE_LENGTH)
    tags: Tags = Field(default_factory=dict)


class Experiment(TrackingEntity):
    id: str
    project: str
    name: str
    description: str = ""
    tags: dict[str, str] = Field(default_factory=dict)
    lifecycle_stage: LifecycleStage = LifecycleStage.ACTIVE
    created_at: int
    created_by: str


class RunSource(TrackingEntity):
    """Where a run's code came from."""

    script: Text | None = Field(default=None, max_length=4096)
    git_commit: Text | None = Field(default=None, max_length=64)
    git_dirty: bool | None = None
    git_branch: Text | None = Field(default=None, max_length=limits.MAX_NAME_LENGTH)


class DatasetInput(TrackingEntity):
    """A data set a run read: enough to tell whether two runs saw the same data."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", ser_json_inf_nan="strings", populate_by_name=True
    )

    name: Name
    digest: Text = Field(min_length=1, max_length=limits.MAX_DIGEST_LENGTH)
    schema_: dict[str, JsonValue] | None = Field(default=None, alias="schema")
    source: Text | None = Field(default=None, max_length=4096)
    context: Key = "training"
    num_rows: Count | None = None


class RunCreate(TrackingEntity):
    """What a client sends to start a run. ``run_id`` may be chosen by the client, which
    lets a client that cannot reach the server start runs offline and sync them later."""

    experiment_id: Id | None = None
    project: Name = "default"
    run_id: RunId | None = None
    name: Name | None = None
    start_time: Timestamp | None = None
    user: Text | None = Field(default=None, max_length=limits.MAX_NAME_LENGTH)
    source: RunSource = Field(default_factory=RunSource)
    parent_run_id: RunId | None = None
    notes: Text = Field(default="", max_length=limits.MAX_NOTES_LENGTH)
    tags: Tags = Field(default_factory=dict)
    params: Params = Field(default_factory=dict)


class LatestMetric(TrackingEntity):
    value: float
    step: int
    timestamp: int


class Run(TrackingEntity):
    id: str
    experiment_id: str
    project: str
    name: str
    status: RunStatus
    start_time: int
    end_time: int | None = None
    user: str | None = None
    source: RunSource = Field(default_factory=RunSource)
    parent_run_id: str | None = None
    notes: str = ""
    lifecycle_stage: LifecycleStage = LifecycleStage.ACTIVE
    created_by: str
    params: dict[str, ParamValue] = Field(default_factory=dict)
    tags: dict[str, str] = Field(default_factory=dict)
    metrics: dict[str, LatestMetric] = Field(default_factory=dict)
    inputs: list[DatasetInput] = Field(default_factory=list)


def run_from_spec(
    spec: RunCreate,
    *,
    run_id: str,
    experiment_id: str,
    project: str,
    name: str,
    start_time: int,
    created_by: str,
) -> Run:
    """A new, running run as ``spec`` describes it: how the store records a creation, and
    what the SDK shows for a run whose creation has not reached the store yet."""
    return Run(
        id=run_id,
        experiment_id=experiment_id,
        project=project,
        name=name,
        status=RunStatus.RUNNING,
        start_time=start_time,
        user=spec.user,
        source=spec.source,
        parent_run_id=spec.parent_run_id,
        notes=spec.notes,
        created_by=created_by,
        params=spec.params,
        tags=spec.tags,
    )


class RunUpdate(TrackingEntity):
    name: Name | None = None
    status: RunStatus | None = None
    end_time: Timestamp | None = None
    notes: Text | None = Field(default=None, max_length=limits.MAX_NOTES_LENGTH)


class MetricBatch(TrackingEntity):
    """Metric points in columns: ``keys[i], values[i], steps[i], timestamps[i]`` is one point.

    Values may be numbers or the strings ``"NaN"``, ``"Infinity"`` and ``"-Infinity"``.
    """

    keys: list[str] = Field(max_length=limits.MAX_BATCH_POINTS)
    values: list[float] = Field(max_length=limits.MAX_BATCH_POINTS)
    steps: list[Step] = Field(max_length=limits.MAX_BATCH_POINTS)
    timestamps: list[Timestamp] = Field(max_length=limits.MAX_BATCH_POINTS)

    @field_validator("keys")
    @classmethod
    def _keys_valid(cls, keys: list[str]) -> list[str]:
        for key in set(keys):  # distinct keys only: batches repeat a few keys many times
            _check_key(key)
        return keys

    @field_validator("values", "steps", "timestamps")
    @classmethod
    def _aligned_with_keys(cls, column: list[Any], info: ValidationInfo) -> list[Any]:
        keys = info.data.get("keys")
        if keys is not None and len(column) != len(keys):
            raise ValueError(f"has {len(column)} items but keys has {len(keys)}")
        return column

    def __len__(self) -> int:
        return len(self.keys)


class RunBatch(TrackingEntity):
    """One atomic write to a run: metrics, params, tags and, optionally, a status change.

    ``batch_id`` is the idempotency key: a batch applied once is never applied again.
    ``create`` starts the run in the same transaction (idempotent, like ``create_run`` with
    a ``run_id``): the SDK sends a short run's whole life in one request.
    """

    batch_id: Text | None = Field(default=None, min_length=8, max_length=64)
    create: RunCreate | None = None
    metrics: MetricBatch | None = None
    params: Params = Field(default_factory=dict)
    tags: Tags = Field(default_factory=dict)
    update: RunUpdate | None = None

    @property
    def point_count(self) -> int:
        return len(self.metrics) if self.metrics is not None else 0


class BatchResult(TrackingEntity):
    applied: bool = Field(description="False when this batch_id had already been applied.")
    points: int
    spooled: bool = Field(
        default=False, description="The server was unreachable: the batch waits in the spool."
    )


class MetricHistory(TrackingEntity):
    """A metric's points in columns. When ``downsampled``, each point is a bucket: ``values``
    is its mean and ``values_min``/``values_max`` its extremes, so the plot keeps its shape."""

    run_id: str
    key: str
    steps: list[int]
    timestamps: list[int]
    values: list[float]
    values_min: list[float] | None = None
    values_max: list[float] | None = None
    downsampled: bool = False
    total_points: int


class RunQuery(TrackingEntity):
    experiment_ids: list[Id] = Field(default_factory=list, max_length=1000)
    project: Text | None = Field(default=None, max_length=limits.MAX_NAME_LENGTH)
    filter: Text = Field(default="", max_length=10_000)
    order_by: list[Text] = Field(default_factory=list, max_length=20)
    max_results: int = Field(default=100, ge=1, le=limits.MAX_RESULTS)
    page_token: Text | None = Field(default=None, max_length=1000)
    view: ViewType = ViewType.ACTIVE


class RunComparison(TrackingEntity):
    """Several runs side by side; every list is aligned with ``run_ids``."""

    run_ids: list[str]
    names: list[str]
    params: dict[str, list[ParamValue]]
    differing_params: list[str]
    metrics: dict[str, list[float | None]]
    tags: dict[str, list[str | None]]


__all__ = [
    "BatchResult",
    "DatasetInput",
    "Experiment",
    "ExperimentCreate",
    "Id",
    "Key",
    "LatestMetric",
    "LifecycleStage",
    "MetricBatch",
    "MetricHistory",
    "Name",
    "ParamValue",
    "Project",
    "Run",
    "RunBatch",
    "RunComparison",
    "RunCreate",
    "RunId",
    "RunQuery",
    "RunSource",
    "RunStatus",
    "RunUpdate",
    "Text",
    "ViewType",
]
