"""Bridges between Starlette's async request body and the synchronous stores."""

from __future__ import annotations

import io
import mimetypes
from collections.abc import AsyncIterator

import anyio.from_thread
from fastapi import Request


class BlockingBodyReader(io.RawIOBase):
    """A file-like view of a request body, read from a worker thread chunk by chunk."""

    def __init__(self, request: Request) -> None:
        self._chunks: AsyncIterator[bytes] = request.stream().__aiter__()
        self._pending = b""
        self._done = False

    async def _next_chunk(self) -> bytes:
        return await self._chunks.__anext__()

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        while not self._done and (size < 0 or len(self._pending) < size):
            try:
                self._pending += anyio.from_thread.run(self._next_chunk)
            except StopAsyncIteration:
                self._done = True
        if size < 0:
            data, self._pending = self._pending, b""
        else:
            data, self._pending = self._pending[:size], self._pending[size:]
        return data


def media_type_for(path: str) -> str:
    guessed, _ = mimetypes.guess_type(path)
    return guessed or "application/octet-stream"
