"""Registry rows to entities, and the JSON columns' encodings."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

import orjson
from sqlalchemy import Connection, Row, bindparam, select, tuple_

from plinth.db.tables.registry import (
    alias_moves,
    model_aliases,
    model_version_inputs,
    model_versions,
    promotion_approvals,
    promotion_requests,
    registered_model_tags,
    registered_models,
)
from plinth.entities.models import ScanStatus, Signature
from plinth.entities.registry import (
    Alias,
    AliasMove,
    Approval,
    Approver,
    Decision,
    GateResult,
    ModelVersion,
    MoveKind,
    PromotionRequest,
    RegisteredModel,
    RequestStatus,
    VersionInput,
    VersionStatus,
)
from plinth.errors import NotFound

_MODEL = select(registered_models).where(registered_models.c.name == bindparam("name"))
_VERSION = select(model_versions).where(
    model_versions.c.model == bindparam("name"), model_versions.c.version == bindparam("number")
)
_HOLDER = select(model_aliases.c.version).where(
    model_aliases.c.model == bindparam("name"), model_aliases.c.alias == bindparam("alias")
)


def encode_metrics(metrics: dict[str, float]) -> str:
    """JSON with NaN and ±inf kept (as the strings ``nan``, ``inf``, ``-inf``)."""
    encoded = {k: v if math.isfinite(v) else repr(v) for k, v in metrics.items()}
    return orjson.dumps(encoded).decode()


def decode_metrics(text: str) -> dict[str, float]:
    return {k: float(v) for k, v in orjson.loads(text).items()}


def encode_results(results: Iterable[GateResult]) -> str:
    return orjson.dumps([r.model_dump() for r in results]).decode()


def decode_results(text: str) -> list[GateResult]:
    return [GateResult.model_validate(item) for item in orjson.loads(text)]


def get_model_row(conn: Connection, name: str) -> Row[Any]:
    row = conn.execute(_MODEL, {"name": name}).first()
    if row is None:
        raise NotFound(f"model {name!r} does not exist")
    return row


def holder_of(conn: Connection, name: str, alias: str) -> int | None:
    """The version an alias points at now, or None."""
    found = conn.execute(_HOLDER, {"name": name, "alias": alias}).scalar()
    return None if found is None else int(found)


def load_models(conn: Connection, rows: Sequence[Row[Any]]) -> list[RegisteredModel]:
    names = [row.name for row in rows]
    tags: dict[str, dict[str, str]] = defaultdict(dict)
    aliases: dict[str, dict[str, int]] = defaultdict(dict)
    if names:
        for model, key, value in conn.execute(
            select(
                registered_model_tags.c.model,
                registered_model_tags.c.key,
                registered_model_tags.c.value,
            ).where(registered_model_tags.c.model.in_(names))
        ):
            tags[model][key] = value
        for model, alias, version in conn.execute(
            select(model_aliases.c.model, model_aliases.c.alias, model_aliases.c.version).where(
                model_aliases.c.model.in_(names)
            )
        ):
            aliases[model][alias] = version
    return [
        RegisteredModel(
            name=row.name,
            project=row.project,
            description=row.description,
            tags=tags[row.name],
            owner=row.owner,
            created_at=row.created_at,
            updated_at=row.updated_at,
            latest_version=row.version_counter or None,
            aliases=dict(sorted(aliases[row.name].items())),
        )
        for row in rows
    ]


def get_version(conn: Connection, name: str, version: int) -> ModelVersion:
    row = conn.execute(_VERSION, {"name": name, "number": version}).first()
    if row is None:
        get_model_row(conn, name)
        raise NotFound(f"model {name!r} has no version {version}")
    return load_versions(conn, [row])[0]


def load_versions(conn: Connection, rows: Sequence[Row[Any]]) -> list[ModelVersion]:
    """Versions with their inputs and the aliases that point at them, in the rows' order."""
    keys = [(row.model, row.version) for row in rows]
    inputs: dict[tuple[str, int], list[VersionInput]] = defaultdict(list)
    aliases: dict[tuple[str, int], list[str]] = defaultdict(list)
    if keys:
        pairs = tuple_(model_version_inputs.c.model, model_version_inputs.c.version)
        for item in conn.execute(
            select(model_version_inputs).where(pairs.in_(keys)).order_by(model_version_inputs.c.id)
        ):
            inputs[(item.model, item.version)].append(
                VersionInput(
                    project=item.project,
                    name=item.dataset_name,
                    digest=item.digest,
                    context=item.context,
                )
            )
        alias_pairs = tuple_(model_aliases.c.model, model_aliases.c.version)
        for model, version, alias in conn.execute(
            select(model_aliases.c.model, model_aliases.c.version, model_aliases.c.alias)
            .where(alias_pairs.in_(keys))
            .order_by(model_aliases.c.alias)
        ):
            aliases[(model, version)].append(alias)
    return [
        version_from_row(row, inputs[(row.model, row.version)], aliases[(row.model, row.version)])
        for row in rows
    ]


def version_from_row(row: Any, inputs: list[VersionInput], aliases: list[str]) -> ModelVersion:
    signature = row.signature_json
    return ModelVersion(
        name=row.model,
        version=row.version,
        source_uri=f"runs:/{row.run_id}/{row.artifact_path}",
        run_id=row.run_id,
        artifact_path=row.artifact_path,
        digest=row.digest,
        flavor=row.flavor,
        format=row.format,
        signature=Signature.model_validate_json(signature) if signature else None,
        scan=ScanStatus(row.scan),
        metrics=decode_metrics(row.metrics_json),
        inputs=inputs,
        status=VersionStatus(row.status),
        description=row.description,
        aliases=aliases,
        created_by=row.created_by,
        created_at=row.created_at,
    )


def version_row(version: ModelVersion) -> dict[str, Any]:
    """The ``model_versions`` row of a new version."""
    signature = version.signature
    return {
        "model": version.name,
        "version": version.version,
        "run_id": version.run_id,
        "artifact_path": version.artifact_path,
        "digest": version.digest,
        "flavor": version.flavor,
        "format": version.format,
        "signature_json": signature.model_dump_json() if signature else None,
        "scan": version.scan.value,
        "metrics_json": encode_metrics(version.metrics),
        "status": version.status.value,
        "description": version.description,
        "created_by": version.created_by,
        "created_at": version.created_at,
    }


def input_rows(version: ModelVersion) -> list[dict[str, Any]]:
    return [
        {
            "model": version.name,
            "version": version.version,
            "project": i.project,
            "dataset_name": i.name,
            "digest": i.digest,
            "context": i.context,
        }
        for i in version.inputs
    ]


def alias_from_row(row: Any) -> Alias:
    return Alias(
        name=row.model,
        alias=row.alias,
        version=row.version,
        updated_at=row.updated_at,
        updated_by=row.updated_by,
    )


def approver_from_row(row: Any) -> Approver:
    return Approver(
        name=row.model,
        user=row.user_name,
        role=row.role,
        added_by=row.added_by,
        added_at=row.added_at,
    )


def move_from_row(row: Any) -> AliasMove:
    return AliasMove(
        id=row.id,
        name=row.model,
        alias=row.alias,
        from_version=row.from_version,
        to_version=row.to_version,
        kind=MoveKind(row.kind),
        actor=row.actor,
        at=row.at,
        reason=row.reason,
        gate_results=decode_results(row.gate_results_json),
        request_id=row.request_id,
    )


def load_requests(conn: Connection, rows: Sequence[Row[Any]]) -> list[PromotionRequest]:
    ids = [row.id for row in rows]
    approvals: dict[str, list[Approval]] = defaultdict(list)
    if ids:
        for item in conn.execute(
            select(promotion_approvals)
            .where(promotion_approvals.c.request_id.in_(ids))
            .order_by(promotion_approvals.c.at, promotion_approvals.c.actor)
        ):
            approvals[item.request_id].append(
                Approval(
                    actor=item.actor,
                    decision=Decision(item.decision),
                    comment=item.comment,
                    at=item.at,
                )
            )
    return [
        PromotionRequest(
            id=row.id,
            name=row.model,
            version=row.version,
            alias=row.alias,
            status=RequestStatus(row.status),
            reason=row.reason,
            from_version=row.from_version,
            gate_results=decode_results(row.gate_results_json),
            approvals=approvals[row.id],
            created_by=row.created_by,
            created_at=row.created_at,
            decided_by=row.decided_by,
            decided_at=row.decided_at,
        )
        for row in rows
    ]


def get_request(conn: Connection, request_id: str) -> PromotionRequest:
    row = conn.execute(
        select(promotion_requests).where(promotion_requests.c.id == request_id)
    ).first()
    if row is None:
        raise NotFound(f"promotion request {request_id!r} does not exist")
    return load_requests(conn, [row])[0]


def moves_of(conn: Connection, name: str, alias: str) -> list[AliasMove]:
    """An alias's moves, oldest first."""
    rows = conn.execute(
        select(alias_moves)
        .where(alias_moves.c.model == name, alias_moves.c.alias == alias)
        .order_by(alias_moves.c.seq)
    ).all()
    return [move_from_row(row) for row in rows]
