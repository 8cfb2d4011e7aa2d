"""The API's route class: ``def`` endpoints in one threadpool hop, generators left alone."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Iterator

from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel

from plinth.server.routing import OrjsonRoute


class Item(BaseModel):
    n: int


def app_with_routes() -> FastAPI:
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

    app = FastAPI()
    app.include_router(router)
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
