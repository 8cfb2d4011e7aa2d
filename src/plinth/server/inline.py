"""Short writes run on the event loop itself when they need not wait.

A ``def`` endpoint costs a hop to the threadpool and back: ~0.28 ms of wall time and CPU a
request on a 2-core machine (measured on ``/healthz``, bench/LIMITS.md), as much as a fifth
of a created run. On SQLite every write queues behind one lock anyway, so a small write
whose lock is free gains nothing from a thread: it runs in place. One that would wait (the
lock is held by a thread, or by another process on the file) goes to the threadpool, so
the loop never blocks on a lock; PostgreSQL writes always do.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ParamSpec, TypeVar

from starlette.concurrency import run_in_threadpool

from plinth.db.engine import Database, WriteWouldWait

SMALL_BATCH_POINTS = 1000
"""Up to this many metric points (a few ms of store work) a batch counts as small."""
SMALL_BATCH_ENTRIES = 100
"""... and up to this many params and tags together."""

P = ParamSpec("P")
T = TypeVar("T")


async def write_soon(
    database: Database, small: bool, write: Callable[P, T], *args: P.args, **kwargs: P.kwargs
) -> T:
    """Run ``write`` (one write transaction) in place if it is small and need not wait,
    else in the threadpool. ``WriteWouldWait`` comes before anything is written, so the
    second attempt is the first write."""
    if small and database.writes_one_at_a_time:
        try:
            with database.without_waiting():
                return write(*args, **kwargs)
        except WriteWouldWait:
            pass
    return await run_in_threadpool(write, *args, **kwargs)
