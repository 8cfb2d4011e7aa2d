"""Hashing while copying. sha256 is the most expensive step of storing a blob (about a GB/s
per core), so with cores to spare it runs in a thread of its own beside the writer: both
release the GIL on big chunks, and a bounded queue keeps the hasher a few chunks behind."""

from __future__ import annotations

import os
import queue
import threading
from typing import Any, BinaryIO

CHUNK_SIZE = 1024 * 1024
QUEUE_CHUNKS = 32
"""Chunks the hasher may lag behind the writer (with ~64 KiB - 1 MiB chunks: a few MiB)."""
HASH_BESIDE = (os.cpu_count() or 1) >= 4
"""Hash beside the writer only when a core is free for it (on a server, the event loop
receiving the body and the writer already keep two busy)."""


class BackgroundHasher:
    """``update`` hands a chunk over; ``finish`` waits for the hasher to catch up."""

    def __init__(self, hasher: Any) -> None:
        self.hasher = hasher
        self._chunks: queue.Queue[bytes | None] = queue.Queue(QUEUE_CHUNKS)
        self._thread = threading.Thread(target=self._run, name="plinth-hash", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (chunk := self._chunks.get()) is not None:
            self.hasher.update(chunk)

    def update(self, chunk: bytes) -> None:
        self._chunks.put(chunk)

    def finish(self) -> None:
        self._chunks.put(None)
        self._thread.join()


def copy_hashing(source: BinaryIO, out: BinaryIO, hasher: Any | None) -> int:
    """Copy ``source`` to ``out`` in chunks, feeding ``hasher`` (if any); the byte count."""
    size = 0
    beside = BackgroundHasher(hasher) if hasher is not None and HASH_BESIDE else None
    try:
        while chunk := source.read(CHUNK_SIZE):
            if beside is not None:
                beside.update(chunk)
            elif hasher is not None:
                hasher.update(chunk)
            out.write(chunk)
            size += len(chunk)
    finally:
        if beside is not None:
            beside.finish()
    return size
