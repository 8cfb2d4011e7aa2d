"""Gated promotion: requests, approvals with roles, rejection, and races for one alias."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from typing import Any

import pytest

from plinth.connect import Platform
from plinth.entities.models import ScanStatus
from plinth.entities.registry import ModelVersionUpdate, RequestStatus, VersionStatus
from plinth.errors import Conflict, PermissionDenied, PlinthError
from plinth.registry.service import RegistryService
from plinth.registry.sql import SqlRegistryStore
from tests.registry.logged_models import trained
from tests.registry.test_registry_store import actor_of


def as_user(platform: Platform, user: str) -> RegistryService:
    """The registry as another user (SQL only: over HTTP every call is the server's one
    actor until authentication exists)."""
    store = platform.registry.store
    if not isinstance(store, SqlRegistryStore):
        pytest.skip("needs several users; the server has one actor until authentication")
    return RegistryService(SqlRegistryStore(store.database, user, store.sources))


def registered(platform: Platform, *accuracies: float, **options: Any) -> None:
    for accuracy in accuracies:
        platform.registry.register_model(
            trained(platform, {"accuracy": accuracy}, **options), "iris"
        )


def test_failing_gates_open_a_request_that_says_why(platform: Platform) -> None:
    registry = platform.registry
    registered(platform, 0.9, scan=ScanStatus.NOT_SCANNED)
    registry.set_gates("iris", ["accuracy >= 0.95", "scan clean", "1 approval from ml-lead"])
    result = registry.promote("iris", 1, "champion", reason="ship it")
    assert not result.moved
    assert result.request is not None
    assert result.request.status == "open"
    assert result.request.created_by == actor_of(platform)
    failing = {r.gate: r.reason for r in result.gate_results if not r.passed}
    assert failing == {
        "accuracy >= 0.95": "accuracy = 0.9, needs >= 0.95",
        "scan clean": "v1 scan: not-scanned",
        "1 approval from ml-lead": "0 of 1 approvals from role 'ml-lead'",
    }
    assert registry.store.list_aliases("iris") == []
    assert registry.store.get_request(result.request.id) == result.request
    assert [r.id for r in registry.store.list_requests("iris", RequestStatus.OPEN)] == [
        result.request.id
    ]


def test_the_approval_that_passes_every_gate_moves_the_alias(platform: Platform) -> None:
    registry = platform.registry
    registered(platform, 0.9, 0.95)
    registry.promote("iris", 1, "champion")
    registry.set_gates("iris", ["beats accuracy by 0.01", "1 approval from ml-lead"])
    registry.add_approver("iris", actor_of(platform), "ml-lead")
    request = registry.promote("iris", 2, "champion", reason="better").request
    assert request is not None
    result = registry.approve(request.id, "looks good")
    assert result.moved
    assert result.move is not None
    assert (result.move.from_version, result.move.to_version) == (1, 2)
    assert (result.move.kind, result.move.request_id) == ("approved", request.id)
    assert result.request is not None
    assert result.request.status == "applied"
    assert [(a.actor, a.comment) for a in result.request.approvals] == [
        (actor_of(platform), "looks good")
    ]
    assert all(r.passed for r in result.move.gate_results)
    assert registry.resolve("iris", alias="champion").version == 2
    with pytest.raises(Conflict, match="already applied"):
        registry.approve(request.id)
    latest = registry.store.alias_history("iris", "champion")[0]
    assert (latest.request_id, latest.reason) == (request.id, "better")


def test_a_version_archived_while_its_request_waits_is_not_promoted(platform: Platform) -> None:
    registry = platform.registry
    registered(platform, 0.9)
    registry.set_gates("iris", ["1 approval from ml-lead"])
    registry.add_approver("iris", actor_of(platform), "ml-lead")
    request = registry.promote("iris", 1, "champion").request
    assert request is not None
    registry.store.update_version("iris", 1, ModelVersionUpdate(status=VersionStatus.ARCHIVED))
    with pytest.raises(Conflict, match="archived"):
        registry.approve(request.id, "ok")
    assert registry.store.list_aliases("iris") == []
    assert registry.reject(request.id, "archived meanwhile").request is not None


def test_deciding_needs_a_role_and_a_rejection_closes_the_request(platform: Platform) -> None:
    registry = platform.registry
    registered(platform, 0.9)
    registry.set_gates("iris", ["1 approval from ml-lead"])
    request = registry.promote("iris", 1, "champion").request
    assert request is not None
    with pytest.raises(PermissionDenied, match="ml-lead"):
        registry.approve(request.id)
    registry.add_approver("iris", actor_of(platform), "intern")
    with pytest.raises(PermissionDenied):
        registry.reject(request.id)
    registry.add_approver("iris", actor_of(platform), "ml-lead")
    rejected = registry.reject(request.id, "not on a Friday")
    assert not rejected.moved
    assert rejected.request is not None
    assert (rejected.request.status, rejected.request.decided_by) == (
        "rejected",
        actor_of(platform),
    )
    assert rejected.request.approvals[0].decision == "reject"
    with pytest.raises(Conflict):
        registry.approve(request.id)
    assert registry.store.list_aliases("iris") == []
    assert {(a.user, a.role) for a in registry.store.list_approvers("iris")} == {
        (actor_of(platform), "intern"),
        (actor_of(platform), "ml-lead"),
    }
    registry.store.remove_approver("iris", actor_of(platform), "intern")
    with pytest.raises(PlinthError):
        registry.store.remove_approver("iris", actor_of(platform), "intern")


def test_two_approvers_from_the_role(platform: Platform) -> None:
    carol, ada, bob = (as_user(platform, n) for n in ("carol", "ada", "bob"))
    registered(platform, 0.9)
    registry = platform.registry
    registry.set_gates("iris", ["2 approvals from ml-lead"])
    for user in ("ada", "bob"):
        registry.add_approver("iris", user, "ml-lead")
    request = carol.promote("iris", 1, "champion").request
    assert request is not None
    first = ada.approve(request.id)
    assert not first.moved
    assert first.gate_results[0].reason == "1 of 2 approvals from role 'ml-lead' (ada)"
    with pytest.raises(Conflict, match="already decided"):
        ada.approve(request.id)
    with pytest.raises(PermissionDenied):
        carol.approve(request.id)
    second = bob.approve(request.id)
    assert second.moved
    assert second.move is not None
    assert second.move.actor == "bob"
    assert registry.store.get_request(request.id).created_by == "carol"


def _race(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run the calls at once (a barrier lines the threads up); each result or exception."""
    barrier = threading.Barrier(len(calls))
    outcomes: list[Any] = [None] * len(calls)

    def run(index: int) -> None:
        barrier.wait()
        try:
            outcomes[index] = calls[index]()
        except PlinthError as exc:
            outcomes[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return outcomes


def test_two_promotions_of_one_alias_at_once_exactly_one_wins(platform: Platform) -> None:
    registry = platform.registry
    registered(platform, 0.90, 0.92, 0.93)
    registry.promote("iris", 1, "champion")
    outcomes = _race(
        [
            lambda: registry.promote("iris", 2, "champion", expected_version=1),
            lambda: registry.promote("iris", 3, "champion", expected_version=1),
        ]
    )
    winners = [o for o in outcomes if not isinstance(o, Exception)]
    losers = [o for o in outcomes if isinstance(o, Exception)]
    assert len(winners) == 1
    assert len(losers) == 1
    assert isinstance(losers[0], Conflict)
    assert registry.resolve("iris", alias="champion").version == winners[0].move.to_version
    assert len(registry.store.alias_history("iris", "champion")) == 2


def test_racing_promotions_never_lose_a_move(platform: Platform) -> None:
    """Without an explicit expectation each promotion expects the holder its gates saw:
    whatever wins, the history is one unbroken chain and the alias is its last link."""
    registry = platform.registry
    registered(platform, *[0.9] * 6)
    registry.set_gates("iris", ["accuracy >= 0.5", "signature compatible"])
    outcomes = _race([lambda v=v: registry.promote("iris", v, "champion") for v in range(1, 7)])
    assert all(isinstance(o, Conflict) or o.moved for o in outcomes)
    moves = list(reversed(registry.store.alias_history("iris", "champion")))
    assert len(moves) == sum(1 for o in outcomes if not isinstance(o, Exception)) >= 1
    assert moves[0].from_version is None
    for before, after in itertools.pairwise(moves):
        assert after.from_version == before.to_version
    assert registry.resolve("iris", alias="champion").version == moves[-1].to_version


def test_the_alias_row_is_compare_and_set(platform: Platform) -> None:
    from plinth.entities.registry import MoveKind
    from plinth.registry.sql_promotion import move_alias

    registry = platform.registry
    registered(platform, 0.9, 0.95)
    registry.promote("iris", 1, "champion")
    store = registry.store
    if not isinstance(store, SqlRegistryStore):
        pytest.skip("the SQL primitive")
    candidate = store.get_version("iris", 2)
    for stale in (None, 2):  # nobody holds it / v2 holds it: both wrong, v1 does
        with pytest.raises(Conflict), store.database.write() as conn:
            move_alias(
                conn, store.database, "x", candidate, "champion", stale, MoveKind.PROMOTE, "", [], 1
            )
    assert registry.resolve("iris", alias="champion").version == 1
