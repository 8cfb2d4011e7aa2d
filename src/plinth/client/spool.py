"""Writes that could not reach the server wait here, on disk, in order, until they can.

Each spooled request is one file (written to a temporary name, then renamed, so a crash
never leaves half a request). Replaying is safe to repeat: every spooled write is
idempotent (runs carry client-chosen ids, batches carry idempotency keys).
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from plinth.errors import PlinthError, Unauthenticated, Unavailable

logger = logging.getLogger("plinth.client")


@dataclass(frozen=True)
class SpooledRequest:
    method: str
    path: str
    body: bytes
    """The JSON request body, exactly as it would have been sent."""


class Spool:
    """An ordered queue of requests in a folder."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.failed_directory = directory / "failed"
        self._lock = threading.Lock()
        self._stamp_lock = threading.Lock()
        self._last_stamp = 0

    def append(self, request: SpooledRequest) -> Path:
        self.directory.mkdir(parents=True, exist_ok=True)
        with self._stamp_lock:  # a clock stepped back must not put a batch before its run
            self._last_stamp = max(time.time_ns(), self._last_stamp + 1)
            stamp = self._last_stamp
        name = f"{stamp:020d}-{uuid.uuid4().hex}.json"
        final = self.directory / name
        temporary = self.directory / f".{name}.tmp"
        header = orjson.dumps({"method": request.method, "path": request.path})
        with open(temporary, "wb") as out:
            out.write(header + b"\n" + request.body)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, final)
        _sync_directory(self.directory)  # the rename itself survives a power loss
        return final

    def pending(self) -> list[Path]:
        if not self.directory.is_dir():
            return []
        return sorted(p for p in self.directory.glob("*.json") if not p.name.startswith("."))

    def __len__(self) -> int:
        return len(self.pending())

    def replay(self, send: Any) -> int:
        """Send spooled requests in order with ``send(SpooledRequest)``; stop at the first
        that cannot reach the server, or that it answers "not now" (a 5xx, 429) or "who are
        you" (401: credentials can be fixed). A request the server refuses for good (4xx)
        is moved to ``failed/`` so it neither blocks the queue nor gets lost. Returns how
        many were sent."""
        sent = 0
        with self._lock:
            for path in self.pending():
                try:
                    header, _, body = path.read_bytes().partition(b"\n")
                    meta = orjson.loads(header)
                    request = SpooledRequest(str(meta["method"]), str(meta["path"]), body)
                except FileNotFoundError:
                    continue  # replayed by another process meanwhile
                except (orjson.JSONDecodeError, KeyError, TypeError):
                    logger.warning("spooled file %s is not a request: set aside", path.name)
                    self._set_aside(path)
                    continue
                try:
                    send(request)
                except (Unavailable, Unauthenticated):
                    break
                except PlinthError as exc:
                    logger.warning("spooled %s %s refused: %s", request.method, request.path, exc)
                    self._set_aside(path)
                    continue
                path.unlink(missing_ok=True)
                sent += 1
        return sent

    def _set_aside(self, path: Path) -> None:
        """Into ``failed/``, unless another process already moved or sent it."""
        self.failed_directory.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            os.replace(path, self.failed_directory / path.name)


def _sync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
