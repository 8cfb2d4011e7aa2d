"""The model registry's pages: every registered model, and one model with its versions,
aliases (each with its whole history), gates, approvers and promotion requests.

The model page is also what the promotion forms (``promotion.py``) answer with, carrying
the outcome of the action next to the form that asked for it."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from plinth.entities.registry import (
    AliasMove,
    BeatsHolderGate,
    Gate,
    GateResult,
    MetricGate,
    ModelVersion,
    PromotionRequest,
    RequestStatus,
)
from plinth.errors import InvalidArgument, NotFound, PlinthError
from plinth.registry.gates import describe
from plinth.registry.service import RegistryService
from plinth.server.deps import CurrentActor, RegistryDep
from plinth.server.ui.run_detail import not_found
from plinth.server.ui.templating import is_partial, render

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50
"""Models per page of the list, and versions per page of a model."""
HISTORY_LIMIT = 1000
"""Alias moves shown on a model page (newest first)."""
REQUESTS_LIMIT = 200
KEY_METRICS = 4
"""Metric columns of the versions table: those the gates name first, then by name."""

Tone = Literal["done", "pending", "error"]
"""An outcome moved something, is waiting for approvals, or failed."""


@dataclass(frozen=True)
class Outcome:
    """What a promotion form did, shown next to that form (``where``: ``promote``,
    ``alias:NAME`` or ``request:ID``; ``page``, at the top, when that is not on the page)."""

    where: str
    tone: Tone
    message: str
    gate_results: list[GateResult] = field(default_factory=list)
    details: list[str] = field(default_factory=list)
    status: int = 200

    @classmethod
    def failed(cls, where: str, exc: PlinthError) -> Outcome:
        details = [f"{e.field}: {e.message}" for e in exc.errors if e.message not in exc.detail]
        return cls(where, "error", exc.detail, details=details, status=exc.status)


@dataclass(frozen=True)
class AliasView:
    """An alias with its holder (``None`` for an alias that only has history) and moves."""

    alias: str
    version: int | None
    moves: list[AliasMove]


def key_metrics(gates: list[Gate], versions: list[ModelVersion]) -> list[str]:
    present = sorted({key for version in versions for key in version.metrics})
    named = [g.metric for g in gates if isinstance(g, MetricGate | BeatsHolderGate)]
    ordered = dict.fromkeys([key for key in named if key in present] + present)
    return list(ordered)[:KEY_METRICS]


def alias_views(current: dict[str, int], history: list[AliasMove]) -> list[AliasView]:
    moves: dict[str, list[AliasMove]] = {alias: [] for alias in sorted(current)}
    for move in history:
        moves.setdefault(move.alias, []).append(move)
    return [AliasView(alias, current.get(alias), found) for alias, found in moves.items()]


def open_first(requests: list[PromotionRequest]) -> list[PromotionRequest]:
    """Open requests first; each group stays newest first."""
    return sorted(requests, key=lambda r: r.status is not RequestStatus.OPEN)


@router.get("/models")
def models_page(
    request: Request,
    registry: RegistryDep,
    name_like: Annotated[str, Query(max_length=250)] = "",
    page_token: Annotated[str | None, Query(max_length=1000)] = None,
) -> Response:
    """Registered models by name, with a name filter and page-token paging."""
    name_like = name_like.strip()
    try:
        page = registry.store.list_models(None, name_like or None, PAGE_SIZE, page_token)
    except InvalidArgument as exc:  # a stale or hand-edited page token
        return render(
            request,
            "error.html",
            {"title": "Cannot list models", "message": exc.detail},
            section="models",
            status_code=exc.status,
        )
    return render(
        request,
        "models.html",
        {
            "models": page.items,
            "name_like": name_like,
            "page_token": page_token,
            "next_page_token": page.next_page_token,
        },
        section="models",
    )


@router.get("/models/{name}")
def model_page(
    request: Request,
    name: str,
    registry: RegistryDep,
    actor: CurrentActor,
    versions_token: Annotated[str | None, Query(max_length=1000)] = None,
) -> Response:
    return render_model(request, registry, actor.name, name, versions_token=versions_token)


def render_model(
    request: Request,
    registry: RegistryService,
    actor: str,
    name: str,
    *,
    outcome: Outcome | None = None,
    versions_token: str | None = None,
) -> Response:
    """The model page, with ``outcome`` shown where its form is. A failed action answers
    its status to a plain form post, and 200 to htmx (which swaps only 2xx answers)."""
    store = registry.store
    try:
        model = store.get_model(name)
    except NotFound as exc:
        return not_found(request, exc.detail, "models")
    except InvalidArgument as exc:  # a name no model can have
        return not_found(request, exc.detail, "models")
    versions_error = ""
    try:
        page = store.list_versions(name, PAGE_SIZE, versions_token)
        versions, next_token = page.items, page.next_page_token
    except InvalidArgument as exc:
        versions, next_token, versions_error = [], None, exc.detail
    gates = store.get_gates(name)
    aliases = alias_views(model.aliases, history=store.alias_history(name, None, HISTORY_LIMIT))
    requests = open_first(store.list_requests(name, None, REQUESTS_LIMIT))
    places = {
        "promote",
        *(f"alias:{a.alias}" for a in aliases),
        *(f"request:{r.id}" for r in requests),
    }
    if outcome is not None and outcome.where not in places:  # an alias or request not shown
        outcome = replace(outcome, where="page")
    status = 200 if outcome is None or is_partial(request) else outcome.status
    return render(
        request,
        "model.html",
        {
            "model": model,
            "actor": actor,
            "versions": versions,
            "versions_token": versions_token,
            "next_versions_token": next_token,
            "versions_error": versions_error,
            "metric_keys": key_metrics(gates.gates, versions),
            "gates": [(describe(gate), gate) for gate in gates.gates],
            "gates_updated": gates,
            "aliases": aliases,
            "approvers": store.list_approvers(name),
            "requests": requests,
            "outcome": outcome,
        },
        section="models",
        status_code=status,
    )
