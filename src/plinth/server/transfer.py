"""Moving big bodies between the event loop and the synchronous stores without holding
them in memory and without a thread hop per network chunk.

Uploads: a task on the event loop reads the request body ahead, in batches of about a MiB,
into a small bounded buffer that a worker thread drains (``with_request_body``); receiving
the next bytes overlaps hashing and writing the previous ones. Downloads: a thread reads
(and verifies) the blob ahead into a small bounded queue that the response drains
(``read_ahead``). Either way at most a few MiB per transfer are in memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from typing import BinaryIO, TypeVar, cast

import anyio
import anyio.from_thread
import anyio.to_thread
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from fastapi import Request
from starlette.requests import ClientDisconnect

from plinth.errors import InvalidArgument

T = TypeVar("T")
BATCH_BYTES = 1024 * 1024
"""Body bytes handed to the worker thread at a time."""
BODY_BATCHES = 8
"""Batches read ahead of the worker (so at most ~8 MiB of one body wait in memory)."""
READ_AHEAD_CHUNKS = 4
"""Chunks of a download read ahead of the network."""

_Batch = list[bytes] | BaseException


class _BodyReader(io.RawIOBase):
    """A file-like view, for a worker thread, of the batches the event loop reads ahead."""

    def __init__(self, batches: MemoryObjectReceiveStream[_Batch]) -> None:
        self._batches = batches
        self._chunks: list[bytes] = []
        self._done = False

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        """The next chunk as it arrived (at most ``size`` bytes); ``b""`` at the end."""
        if size < 0:
            return b"".join(iter(lambda: self.read(BATCH_BYTES), b""))
        while not self._chunks:
            if self._done:
                return b""
            try:
                batch = anyio.from_thread.run(self._batches.receive)
            except anyio.EndOfStream:
                self._done = True
                return b""
            if isinstance(batch, BaseException):
                self._done = True
                raise batch
            self._chunks = batch[::-1]  # popped from the end, in order
        chunk = self._chunks.pop()
        if size < len(chunk):
            chunk, rest = chunk[:size], chunk[size:]
            self._chunks.append(rest)
        return chunk


async def _pump(request: Request, batches: MemoryObjectSendStream[_Batch]) -> None:
    async with batches:
        batch: list[bytes] = []
        size = 0
        try:
            async for chunk in request.stream():
                if chunk:
                    batch.append(chunk)
                    size += len(chunk)
                if size >= BATCH_BYTES:
                    await batches.send(batch)
                    batch, size = [], 0
            if batch:
                await batches.send(batch)
        except ClientDisconnect:
            await batches.send(
                InvalidArgument.for_field("body", "the client went away before the body ended")
            )
        except Exception as exc:  # the worker must not take a cut body for a whole one
            await batches.send(exc)


async def with_request_body(request: Request, work: Callable[[BinaryIO], T]) -> T:
    """Run ``work(body)`` in a worker thread, ``body`` being the request's body as a
    stream that the event loop keeps reading ahead."""
    send, receive = anyio.create_memory_object_stream[_Batch](BODY_BATCHES)
    pump = asyncio.ensure_future(_pump(request, send))
    try:
        return await anyio.to_thread.run_sync(work, cast(BinaryIO, _BodyReader(receive)))
    finally:
        pump.cancel()
        receive.close()
        await asyncio.wait([pump])  # its outcome does not matter any more


async def read_ahead(
    chunks: Iterator[bytes], depth: int = READ_AHEAD_CHUNKS
) -> AsyncIterator[bytes]:
    """Iterate ``chunks`` in a thread of its own, up to ``depth`` chunks ahead of the
    consumer; an error in the thread is raised here; stopping early closes ``chunks``."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[bytes | BaseException | None] = asyncio.Queue()
    slots = threading.Semaphore(depth)
    stop = threading.Event()

    def hand_over(item: bytes | BaseException | None) -> None:
        with contextlib.suppress(RuntimeError):  # the loop is gone: nobody is listening
            loop.call_soon_threadsafe(queue.put_nowait, item)

    def produce() -> None:
        item: BaseException | None = None
        try:
            for chunk in chunks:
                slots.acquire()
                if stop.is_set():
                    return
                hand_over(chunk)
        except BaseException as exc:  # handed to the consumer, raised there
            item = exc
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()
        hand_over(item)

    threading.Thread(target=produce, name="plinth-read-ahead", daemon=True).start()
    try:
        while (item := await queue.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            slots.release()
            yield item
    finally:
        stop.set()
        slots.release()  # wake the producer if it waits for room
