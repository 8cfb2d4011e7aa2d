"""Promotion, approval and rollback in SQL: gates evaluated between reads and one write.

An alias moves by compare-and-set: ``UPDATE model_aliases SET version = new WHERE version =
expected`` (or an ``INSERT`` that must not conflict when no version held it). Promotion
reads the holder, evaluates the gates against it, then writes expecting that same holder:
of two promotions racing for one alias exactly one moves it, the other gets ``Conflict``.
The same holds on SQLite (writes queue on one lock, the loser sees the new holder) and on
PostgreSQL (the row lock makes the loser's ``UPDATE`` match nothing).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, bindparam, func, select, update

from plinth.db.engine import Database
from plinth.db.tables.registry import (
    alias_moves,
    model_aliases,
    model_approvers,
    model_gates,
    promotion_approvals,
    promotion_requests,
)
from plinth.entities.common import new_id, now_ms
from plinth.entities.registry import (
    AliasMove,
    Approval,
    ApprovalsGate,
    Decision,
    DecisionCreate,
    Gate,
    GatePolicy,
    GateResult,
    ModelVersion,
    MoveKind,
    PromotionCreate,
    PromotionRequest,
    PromotionResult,
    RequestStatus,
    RollbackCreate,
    VersionStatus,
)
from plinth.entities.webhooks import EventType
from plinth.errors import Conflict, PermissionDenied
from plinth.registry import sql_rows
from plinth.registry.gates import PromotionContext, applicable, evaluate
from plinth.registry.sql_events import record_event
from plinth.registry.uris import alias_uri

_CAS = (
    update(model_aliases)
    .where(
        model_aliases.c.model == bindparam("b_model"),
        model_aliases.c.alias == bindparam("b_alias"),
        model_aliases.c.version == bindparam("b_expected"),
    )
    .values(
        version=bindparam("b_version"),
        updated_at=bindparam("b_at"),
        updated_by=bindparam("b_by"),
    )
)
_NEXT_SEQ = select(func.coalesce(func.max(alias_moves.c.seq), 0) + 1).where(
    alias_moves.c.model == bindparam("name"), alias_moves.c.alias == bindparam("alias")
)
_INSERT_MOVE = alias_moves.insert()
_CLAIM_KEY = ("registry", "claim-alias")
_GATES = select(model_gates.c.gates_json).where(model_gates.c.model == bindparam("name"))
_ROLES = select(model_approvers.c.user_name, model_approvers.c.role).where(
    model_approvers.c.model == bindparam("name")
)


def gates_of(conn: Connection, name: str) -> list[Gate]:
    stored = conn.execute(_GATES, {"name": name}).scalar()
    return GatePolicy.model_validate_json(stored).gates if stored else []


def roles_of(conn: Connection, name: str) -> dict[str, set[str]]:
    roles: dict[str, set[str]] = {}
    for user, role in conn.execute(_ROLES, {"name": name}):
        roles.setdefault(user, set()).add(role)
    return roles


def _needs_roles(gates: list[Gate]) -> bool:
    return any(isinstance(g, ApprovalsGate) for g in gates)


def promote(database: Database, actor: str, name: str, spec: PromotionCreate) -> PromotionResult:
    with database.read() as conn:
        candidate = sql_rows.get_version(conn, name, spec.version)
        if candidate.status is VersionStatus.ARCHIVED:
            raise Conflict(f"{candidate.uri} is archived; it cannot be promoted")
        holder_version = sql_rows.holder_of(conn, name, spec.alias)
        if spec.expected_version is not None and holder_version != spec.expected_version:
            held = f"v{holder_version}" if holder_version else "no version"
            raise Conflict(
                f"@{spec.alias} is held by {held}, not v{spec.expected_version} as expected"
            )
        if holder_version == candidate.version:
            raise Conflict(f"{candidate.uri} already holds @{spec.alias}")
        holder = sql_rows.get_version(conn, name, holder_version) if holder_version else None
        gates = gates_of(conn, name)
        roles = roles_of(conn, name) if _needs_roles(gates) else {}
    results = evaluate(gates, PromotionContext(spec.alias, candidate, holder, [], roles))
    now = now_ms()
    with database.write() as conn:
        if all(r.passed for r in results):
            move = move_alias(
                conn,
                database,
                actor,
                candidate,
                spec.alias,
                holder_version,
                MoveKind.PROMOTE,
                spec.reason,
                results,
                now,
            )
            return PromotionResult(moved=True, gate_results=results, move=move)
        request = PromotionRequest(
            id=new_id(),
            name=name,
            version=candidate.version,
            alias=spec.alias,
            status=RequestStatus.OPEN,
            reason=spec.reason,
            from_version=holder_version,
            gate_results=results,
            created_by=actor,
            created_at=now,
        )
        conn.execute(
            promotion_requests.insert(),
            {
                **request.model_dump(exclude={"name", "gate_results", "approvals"}),
                "model": name,
                "gate_results_json": sql_rows.encode_results(results),
            },
        )
        record_event(
            conn,
            EventType.PROMOTION_REQUESTED,
            model=name,
            subject=alias_uri(name, spec.alias),
            data_json=request.model_dump_json(),
            actor=actor,
            now=now,
        )
    return PromotionResult(moved=False, gate_results=results, request=request)


def _claim_alias(database: Database) -> Any:
    """``INSERT ... ON CONFLICT DO NOTHING RETURNING``: a row back means this insert won
    (psycopg reports no rowcount for such an insert), built once per database."""
    statement = database.caches.get(_CLAIM_KEY)
    if statement is None:
        from sqlalchemy.dialects.postgresql import insert as pg_insert
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        insert: Any = pg_insert if database.is_postgres else sqlite_insert
        statement = database.caches[_CLAIM_KEY] = (
            insert(model_aliases).on_conflict_do_nothing().returning(model_aliases.c.version)
        )
    return statement


def move_alias(
    conn: Connection,
    database: Database,
    actor: str,
    candidate: ModelVersion,
    alias: str,
    expected: int | None,
    kind: MoveKind,
    reason: str,
    results: list[GateResult],
    now: int,
    request_id: str | None = None,
) -> AliasMove:
    """Compare-and-set the alias from ``expected`` to ``candidate``, append the move to the
    history and queue the event; ``Conflict`` when the alias no longer holds ``expected``."""
    name = candidate.name
    if expected is None:
        row = {
            "model": name,
            "alias": alias,
            "version": candidate.version,
            "updated_at": now,
            "updated_by": actor,
        }
        moved = conn.execute(_claim_alias(database), row).first() is not None
    else:
        moved = (
            conn.execute(
                _CAS,
                {
                    "b_model": name,
                    "b_alias": alias,
                    "b_expected": expected,
                    "b_version": candidate.version,
                    "b_at": now,
                    "b_by": actor,
                },
            ).rowcount
            == 1
        )
    if not moved:
        raise Conflict(
            f"@{alias} of {name!r} moved while this change was evaluated (another promotion "
            "won the race); look at it again and retry"
        )
    move = AliasMove(
        id=new_id(),
        name=name,
        alias=alias,
        from_version=expected,
        to_version=candidate.version,
        kind=kind,
        actor=actor,
        at=now,
        reason=reason,
        gate_results=results,
        request_id=request_id,
    )
    seq = conn.execute(_NEXT_SEQ, {"name": name, "alias": alias}).scalar_one()
    conn.execute(
        _INSERT_MOVE,
        {
            **move.model_dump(exclude={"name", "gate_results"}),
            "model": name,
            "seq": seq,
            "gate_results_json": sql_rows.encode_results(results),
        },
    )
    record_event(
        conn,
        EventType.ALIAS_MOVED,
        model=name,
        subject=alias_uri(name, alias),
        data_json=move.model_dump_json(),
        actor=actor,
        now=now,
    )
    return move


def decide(
    database: Database, actor: str, request_id: str, decision: Decision, spec: DecisionCreate
) -> PromotionResult:
    """Record an approval or a rejection; an approval that lets every gate pass moves the
    alias, in the same transaction (so a lost race leaves no approval behind either)."""
    now = now_ms()
    with database.write() as conn:
        request = sql_rows.get_request(conn, request_id)
        if request.status is not RequestStatus.OPEN:
            raise Conflict(f"promotion request {request_id} is already {request.status.value}")
        gates = applicable(gates_of(conn, request.name), request.alias)
        roles = roles_of(conn, request.name)
        _check_may_decide(actor, request, gates, roles)
        if any(a.actor == actor for a in request.approvals):
            raise Conflict(f"{actor!r} has already decided on promotion request {request_id}")
        approval = Approval(actor=actor, decision=decision, comment=spec.comment, at=now)
        conn.execute(
            promotion_approvals.insert(),
            {"request_id": request_id, **approval.model_dump()},
        )
        approvals = [*request.approvals, approval]
        if decision is Decision.REJECT:
            request = _close(conn, request, approvals, RequestStatus.REJECTED, actor, now)
            return PromotionResult(moved=False, gate_results=request.gate_results, request=request)
        candidate = sql_rows.get_version(conn, request.name, request.version)
        if candidate.status is VersionStatus.ARCHIVED:
            raise Conflict(f"{candidate.uri} was archived; it cannot be promoted: reject it")
        holder_version = sql_rows.holder_of(conn, request.name, request.alias)
        if holder_version == candidate.version:
            raise Conflict(f"{candidate.uri} already holds @{request.alias}; reject the request")
        holder = (
            sql_rows.get_version(conn, request.name, holder_version) if holder_version else None
        )
        results = evaluate(
            gates, PromotionContext(request.alias, candidate, holder, approvals, roles)
        )
        if not all(r.passed for r in results):
            conn.execute(
                update(promotion_requests)
                .where(promotion_requests.c.id == request_id)
                .values(gate_results_json=sql_rows.encode_results(results))
            )
            request = request.model_copy(update={"approvals": approvals, "gate_results": results})
            return PromotionResult(moved=False, gate_results=results, request=request)
        move = move_alias(
            conn,
            database,
            actor,
            candidate,
            request.alias,
            holder_version,
            MoveKind.APPROVED,
            request.reason,
            results,
            now,
            request_id=request_id,
        )
        request = request.model_copy(update={"gate_results": results})
        request = _close(conn, request, approvals, RequestStatus.APPLIED, actor, now)
    return PromotionResult(moved=True, gate_results=results, move=move, request=request)


def _check_may_decide(
    actor: str, request: PromotionRequest, gates: list[Gate], roles: dict[str, set[str]]
) -> None:
    """Deciders hold a role an approvals gate names (any approver role of the model when no
    approvals gate guards this alias)."""
    held = roles.get(actor, set())
    wanted = {g.role for g in gates if isinstance(g, ApprovalsGate)}
    if held & wanted or (held and not wanted):
        return
    needed = f"one of the roles {sorted(wanted)}" if wanted else "an approver role"
    raise PermissionDenied(
        f"{actor!r} may not decide on promotions of {request.name!r}: it needs {needed} "
        f"(plinth models approvers add {request.name} {actor} --role ROLE)"
    )


def _close(
    conn: Connection,
    request: PromotionRequest,
    approvals: list[Approval],
    status: RequestStatus,
    actor: str,
    now: int,
) -> PromotionRequest:
    conn.execute(
        update(promotion_requests)
        .where(promotion_requests.c.id == request.id)
        .values(
            status=status.value,
            decided_by=actor,
            decided_at=now,
            gate_results_json=sql_rows.encode_results(request.gate_results),
        )
    )
    closed = request.model_copy(
        update={"status": status, "approvals": approvals, "decided_by": actor, "decided_at": now}
    )
    record_event(
        conn,
        EventType.PROMOTION_DECIDED,
        model=request.name,
        subject=alias_uri(request.name, request.alias),
        data_json=closed.model_dump_json(),
        actor=actor,
        now=now,
    )
    return closed


def rollback(database: Database, actor: str, name: str, spec: RollbackCreate) -> AliasMove:
    """Move the alias back to the version it held before the current one. Moves stack:
    promote v1, v2, v3, then roll back twice, and the alias is at v1. Gates are evaluated
    and recorded, not enforced: rolling back is how a bad promotion is undone quickly."""
    with database.read() as conn:
        sql_rows.get_model_row(conn, name)
        current = sql_rows.holder_of(conn, name, spec.alias)
        if current is None:
            raise Conflict(f"@{spec.alias} of {name!r} points at no version")
        stack: list[int] = []
        for move in sql_rows.moves_of(conn, name, spec.alias):
            if move.kind is MoveKind.ROLLBACK:
                stack.pop()
            else:
                stack.append(move.to_version)
        if len(stack) < 2:
            raise Conflict(f"@{spec.alias} of {name!r} has no previous version to roll back to")
        previous = sql_rows.get_version(conn, name, stack[-2])
        holder = sql_rows.get_version(conn, name, current)
        gates = gates_of(conn, name)
        roles = roles_of(conn, name) if _needs_roles(gates) else {}
    results = evaluate(gates, PromotionContext(spec.alias, previous, holder, [], roles))
    with database.write() as conn:
        return move_alias(
            conn,
            database,
            actor,
            previous,
            spec.alias,
            current,
            MoveKind.ROLLBACK,
            spec.reason,
            results,
            now_ms(),
        )
