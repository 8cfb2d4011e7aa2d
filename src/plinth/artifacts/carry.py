"""Running digests (and, on a local disk, running files) of resumable uploads whose parts
arrive in order.

A client sends parts 1, 2, 3, ... one after another. Hashing each as it streams in leaves
the whole file's sha256 ready when the upload completes, and appending each to one "chain"
file leaves the whole file ready too: completing then neither reads the parts back nor
copies them. A carry is only trusted when the parts it covers are exactly the parts being
assembled (same numbers and etags, an etag naming one write of a part), so a part sent
again, out of order, or to another server process simply means the parts are read, hashed
and joined at the end instead.

A chain is append-only: one writer at a time appends at the carried length, a failed
append is cut off again, and no region the carry covers is ever written twice.
"""

from __future__ import annotations

import hashlib
import threading
import uuid
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from plinth.artifacts.store import StoredPart

MAX_CARRIES = 256
"""Uploads whose running digest one process keeps (the oldest are forgotten first)."""


@dataclass(frozen=True)
class Carry:
    parts: tuple[StoredPart, ...]
    hasher: Any
    size: int
    chain: str | None
    """The chain file holding exactly ``parts`` in order, if they were appended to one."""


@dataclass(frozen=True)
class Continuation:
    """What one write of a part continues: the carry before it, a hasher to feed, and the
    chain to append to at ``offset`` (None: write the part to a file of its own)."""

    before: Carry | None
    hasher: Any
    chain: str | None
    offset: int


@dataclass(frozen=True)
class Carried:
    digest: str
    size: int
    chain: str | None


class RunningDigests:
    """Per-upload running sha256 and chain, updated by compare-and-set as parts finish."""

    def __init__(self) -> None:
        self._carries: OrderedDict[str, Carry] = OrderedDict()
        self._appending: set[str] = set()
        self._lock = threading.Lock()

    def begin(self, upload_id: str, number: int, *, chains: bool) -> Continuation | None:
        """How a write of part ``number`` continues the carry (None: it does not)."""
        with self._lock:
            carry = self._carries.get(upload_id)
            free = chains and upload_id not in self._appending
            if number == 1:
                chain = uuid.uuid4().hex if free else None
                continuation = Continuation(None, hashlib.sha256(), chain, 0)
            elif carry is not None and carry.parts[-1].number == number - 1:
                chain = carry.chain if free else None
                continuation = Continuation(carry, carry.hasher.copy(), chain, carry.size)
            else:
                return None
            if continuation.chain is not None:
                self._appending.add(upload_id)
            return continuation

    def finish(self, upload_id: str, step: Continuation, part: StoredPart | None) -> None:
        """Record a finished part (None: the write failed), unless another write moved the
        carry meanwhile."""
        with self._lock:
            if step.chain is not None:
                self._appending.discard(upload_id)
            if part is None:
                return
            chain = step.chain if part.chain is not None else None
            if part.number == 1:
                self._carries[upload_id] = Carry((part,), step.hasher, part.size, chain)
            elif step.before is not None and self._carries.get(upload_id) is step.before:
                parts = (*step.before.parts, part)
                size = step.before.size + part.size
                self._carries[upload_id] = Carry(parts, step.hasher, size, chain)
            else:
                return
            self._carries.move_to_end(upload_id)
            while len(self._carries) > MAX_CARRIES:
                self._carries.popitem(last=False)

    def take(self, upload_id: str, parts: Sequence[StoredPart]) -> Carried | None:
        """The digest (and chain) of exactly ``parts`` if they were carried, else None. The
        chain is only handed out when no append to it is under way."""
        with self._lock:
            carry = self._carries.pop(upload_id, None)
            appending = upload_id in self._appending
        if carry is None or carry.parts != tuple(parts):
            return None
        chain = None if appending else carry.chain
        return Carried(carry.hasher.hexdigest(), carry.size, chain)

    def forget(self, upload_id: str) -> None:
        with self._lock:
            self._carries.pop(upload_id, None)
