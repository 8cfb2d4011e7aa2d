"""The model page's forms: promote a version to an alias, roll an alias back, approve or
reject a promotion request. Each calls the registry service as the request's actor and
answers the model page with the outcome (or the service's error) next to the form.

The forms post ``application/x-www-form-urlencoded`` (htmx and plain forms alike), read
here without a multipart parser. Posts another site's page makes are refused: these
routes change state with nothing but a form, so they check the browser's
``Sec-Fetch-Site`` (or ``Origin``) header."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import parse_qs, urlsplit

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from plinth.entities.registry import PromotionResult
from plinth.errors import NotFound, PayloadTooLarge, PermissionDenied, PlinthError
from plinth.server.deps import CurrentActor, RegistryDep
from plinth.server.ui.models import Outcome, Tone, render_model

FORM_LIMIT = 64 * 1024
"""Bytes of a form body read at most (the longest field, a comment, is 10,000 characters)."""
SAME_ORIGIN = ("same-origin", "none")


async def same_origin(request: Request) -> None:
    """Refuse a form another site posts here (cross-site request forgery)."""
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        allowed = site in SAME_ORIGIN
    else:  # a browser without Fetch Metadata still sends Origin on a POST
        origin = request.headers.get("origin")
        allowed = origin is None or _netloc(origin) == request.headers.get("host")
    if not allowed:
        raise PermissionDenied("a form from another site may not change the registry")


def _netloc(origin: str) -> str | None:
    try:
        return urlsplit(origin).netloc
    except ValueError:  # not a URL at all: no origin this server could be
        return None


async def form_fields(request: Request) -> dict[str, str]:
    """The form's fields (the last value of a repeated one)."""
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > FORM_LIMIT:
            raise PayloadTooLarge(f"a form may send {FORM_LIMIT} bytes at most")
    fields = parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True)
    return {key: values[-1].strip() for key, values in fields.items()}


Form = Annotated[dict[str, str], Depends(form_fields)]
router = APIRouter(include_in_schema=False, dependencies=[Depends(same_origin)])


def gates_summary(result: PromotionResult) -> str:
    failed = [r.gate for r in result.gate_results if not r.passed]
    return "failed gates: " + ", ".join(failed) if failed else "every gate passed"


def moved_message(result: PromotionResult) -> str:
    move = result.move
    if move is None:  # pragma: no cover (a moved result always carries its move)
        return "The alias moved."
    start = f"v{move.from_version}" if move.from_version is not None else "nothing"
    return f"@{move.alias} moved from {start} to v{move.to_version}."


@router.post("/models/{name}/promote")
def promote(
    request: Request, name: str, form: Form, registry: RegistryDep, actor: CurrentActor
) -> Response:
    alias = form.get("alias", "")
    try:
        result = registry.promote(
            name, form.get("version", ""), alias, reason=form.get("reason", "")
        )
    except PlinthError as exc:
        outcome = Outcome.failed("promote", exc)
    else:
        if result.moved:
            message = moved_message(result)
        else:
            opened = result.request.id[:8] if result.request else ""
            message = f"Promotion request {opened} opened: {gates_summary(result)}."
        tone: Tone = "done" if result.moved else "pending"
        outcome = Outcome("promote", tone, message, result.gate_results)
    return render_model(request, registry, actor.name, name, outcome=outcome)


@router.post("/models/{name}/rollback")
def rollback(
    request: Request, name: str, form: Form, registry: RegistryDep, actor: CurrentActor
) -> Response:
    alias = form.get("alias", "")
    where = f"alias:{alias}"
    try:
        move = registry.rollback(name, alias, reason=form.get("reason", ""))
    except PlinthError as exc:
        outcome = Outcome.failed(where, exc)
    else:
        start = f"v{move.from_version}" if move.from_version is not None else "nothing"
        message = f"@{move.alias} rolled back from {start} to v{move.to_version}."
        outcome = Outcome(where, "done", message, move.gate_results)
    return render_model(request, registry, actor.name, name, outcome=outcome)


def decide(
    request: Request,
    name: str,
    request_id: str,
    form: dict[str, str],
    registry: RegistryDep,
    actor: str,
    approve: bool,
) -> Response:
    where = f"request:{request_id}"
    comment = form.get("comment", "")
    try:
        if registry.store.get_request(request_id).name != name:
            raise NotFound(f"model {name!r} has no promotion request {request_id!r}")
        if approve:
            result = registry.approve(request_id, comment)
        else:
            result = registry.reject(request_id, comment)
    except PlinthError as exc:
        outcome = Outcome.failed(where, exc)
    else:
        if not approve:
            message = "Request rejected."
        elif result.moved:
            message = "Approved: " + moved_message(result)
        else:
            message = f"Approval recorded; still waiting ({gates_summary(result)})."
        tone: Tone = "pending" if approve and not result.moved else "done"
        outcome = Outcome(where, tone, message, result.gate_results)
    return render_model(request, registry, actor, name, outcome=outcome)


@router.post("/models/{name}/promotions/{request_id}/approve")
def approve(
    request: Request,
    name: str,
    request_id: str,
    form: Form,
    registry: RegistryDep,
    actor: CurrentActor,
) -> Response:
    return decide(request, name, request_id, form, registry, actor.name, approve=True)


@router.post("/models/{name}/promotions/{request_id}/reject")
def reject(
    request: Request,
    name: str,
    request_id: str,
    form: Form,
    registry: RegistryDep,
    actor: CurrentActor,
) -> Response:
    return decide(request, name, request_id, form, registry, actor.name, approve=False)
