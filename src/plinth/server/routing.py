"""How routes reach the app. The route class of every API router: request bodies parsed with
orjson (several times faster than the standard library on the columnar metric batches that
dominate them), and a plain ``def`` endpoint run in the threadpool in one hop instead of
two. And ``include_flat``: a router's routes added to the app itself."""

from __future__ import annotations

import functools
import inspect
import json
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

import orjson
from fastapi import FastAPI, Request, Response
from fastapi.params import Depends
from fastapi.routing import APIRoute, APIRouter
from starlette.concurrency import run_in_threadpool


class OrjsonRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            # orjson.JSONDecodeError subclasses json.JSONDecodeError, which FastAPI turns
            # into a validation error (a 4xx problem), like any malformed body.
            body = await self.body()
            document = orjson.loads(body)
            if _params_may_hold_big_integers(document):
                document = json.loads(body)  # exact integers, so validation can refuse them
            self._json = document
        return self._json


def _params_may_hold_big_integers(document: Any) -> bool:
    """orjson parses integers beyond 64 bits as floats, which would silently turn such a
    param into a float: look for an integral float that large among the (few) params."""
    params = document.get("params") if isinstance(document, dict) else None
    if not isinstance(params, dict):
        return False
    pending = list(params.values())
    while pending:
        value = pending.pop()
        if isinstance(value, float) and abs(value) >= 2**63 and value.is_integer():
            return True
        if isinstance(value, list):
            pending.extend(value)
        elif isinstance(value, dict):
            pending.extend(value.values())
    return False


def _in_one_thread_hop(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """FastAPI runs a plain ``def`` endpoint in the threadpool and then, separately, the
    serialization of its return value: two thread hops (~90 µs each on a 2-core machine).
    As a coroutine that awaits the endpoint in the threadpool it takes one; the response is
    serialized in the event loop. ``functools.wraps`` keeps the signature FastAPI reads."""
    if (
        not inspect.isfunction(endpoint)
        or inspect.iscoroutinefunction(endpoint)
        or inspect.isgeneratorfunction(endpoint)  # FastAPI streams those itself
        or inspect.isasyncgenfunction(endpoint)
    ):
        return endpoint

    @functools.wraps(endpoint)
    async def in_threadpool(*args: Any, **kwargs: Any) -> Any:
        return await run_in_threadpool(endpoint, *args, **kwargs)

    return in_threadpool


class OrjsonRoute(APIRoute):
    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, _in_one_thread_hop(endpoint), **kwargs)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def parse_with_orjson(request: Request) -> Response:
            return await handler(OrjsonRequest(request.scope, request.receive))

        return parse_with_orjson


def include_flat(
    app: FastAPI, router: APIRouter, *, prefix: str = "", dependencies: Sequence[Depends] = ()
) -> None:
    """Add ``router``'s routes to the app itself, as ``include_router`` did before FastAPI
    kept included routers nested. Nested, every request walks each router before its own
    (with scope bookkeeping per route) and its own router twice: ~0.1 ms of server CPU per
    router passed, measured, on requests of a few ms. Flat, a route costs one regex match.
    The OpenAPI document is the same (``tests/server/test_routing.py`` compares it)."""
    for route in router.routes:
        if not isinstance(route, APIRoute):
            raise TypeError(f"only API routes can be included flat, not {route!r}")
        app.router.add_api_route(
            prefix + route.path,
            route.endpoint,
            response_model=route.response_model,
            status_code=route.status_code,
            tags=route.tags,
            dependencies=[*dependencies, *route.dependencies],
            summary=route.summary,
            description=route.description,
            response_description=route.response_description,
            responses=route.responses,
            deprecated=route.deprecated,
            methods=route.methods,
            operation_id=route.operation_id,
            response_model_include=route.response_model_include,
            response_model_exclude=route.response_model_exclude,
            response_model_by_alias=route.response_model_by_alias,
            response_model_exclude_unset=route.response_model_exclude_unset,
            response_model_exclude_defaults=route.response_model_exclude_defaults,
            response_model_exclude_none=route.response_model_exclude_none,
            include_in_schema=route.include_in_schema,
            response_class=route.response_class,
            name=route.name,
            route_class_override=type(route),
            callbacks=route.callbacks,
            openapi_extra=route.openapi_extra,
            generate_unique_id_function=route.generate_unique_id_function,
        )
