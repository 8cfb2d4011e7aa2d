"""The API's route class: ``def`` endpoints in one threadpool hop, generators left alone;
routers included flat document and serve the same API as nested ones."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Iterator

import pytest
from fastapi import APIRouter, Depends, FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel

from plinth.server.api import health
from plinth.server.app import API_ROUTER_MODULES
from plinth.server.deps import authorize
from plinth.server.routing import OrjsonRoute, include_flat
from plinth.server.ui.pages import ROUTERS as UI_ROUTERS


class Item(BaseModel):
    n: int


def router_with_routes() -> APIRouter:
    router = APIRouter(route_class=OrjsonRoute)
    loop_thread: dict[str, int] = {}

    @router.get("/plain")
    def plain() -> Item:
        return Item(n=threading.get_ident())

    @router.get("/loop")
    async def loop() -> Item:
        loop_thread["id"] = threading.get_ident()
        return Item(n=threading.get_ident())

    @router.get("/items")
    def items() -> Iterator[Item]:
        yield from (Item(n=n) for n in range(3))

    @router.get("/async-items")
    async def async_items() -> AsyncIterator[Item]:
        for n in range(3):
            yield Item(n=n)

    return router


def app_with_routes() -> FastAPI:
    app = FastAPI()
    app.include_router(router_with_routes())
    return app


def test_def_endpoints_run_off_the_loop_and_generators_still_stream() -> None:
    with TestClient(app_with_routes()) as client:
        loop = client.get("/loop").json()["n"]
        plain = client.get("/plain").json()["n"]
        assert plain != loop  # a worker thread, not the event loop's
        for path in ("/items", "/async-items"):
            response = client.get(path)
            assert response.status_code == 200
            assert [line for line in response.text.splitlines() if line] == [
                '{"n":0}',
                '{"n":1}',
                '{"n":2}',
            ], response.text


API_ROUTERS = [m.router for m in (*API_ROUTER_MODULES, health)]


@pytest.mark.parametrize("router", [*API_ROUTERS, *UI_ROUTERS])
def test_a_router_included_flat_documents_the_same_api_as_nested(router: APIRouter) -> None:
    nested, flat = FastAPI(), FastAPI()
    nested.include_router(router, prefix="/api/v1", dependencies=[Depends(authorize)])
    include_flat(flat, router, prefix="/api/v1", dependencies=[Depends(authorize)])
    assert flat.openapi() == nested.openapi()
    nested_paths = {getattr(route, "path", None) for route in nested.router.routes}
    assert {route.path for route in flat.routes} - nested_paths  # flat: the routes themselves


def test_routes_included_flat_serve_with_their_prefix_and_dependencies() -> None:
    seen: list[str] = []

    async def record() -> None:
        seen.append("dependency")

    app = FastAPI()
    include_flat(app, router_with_routes(), prefix="/p", dependencies=[Depends(record)])
    with TestClient(app) as client:
        assert client.get("/p/plain").json()["n"] > 0
        assert client.get("/plain").status_code == 404
    assert seen == ["dependency"]
