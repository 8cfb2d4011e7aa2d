"""Run logging that never blocks the training loop.

``log_metric`` appends a tuple to a deque and returns. Params and tags, already validated
and conflict-checked by the caller, wait beside the points. A background thread sends what
has gathered every ``flush_interval`` seconds, or sooner once ``flush_max_points`` wait, as
one columnar batch per run through whichever store ``connect`` chose. Each batch carries
an idempotency key, so the REST store's retries never store anything twice, and an
unreachable server sends batches to the spool instead of losing them.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from plinth.entities.common import new_id
from plinth.entities.tracking import MetricBatch, RunBatch, RunCreate, RunUpdate
from plinth.errors import Conflict, PlinthError, Unavailable

logger = logging.getLogger("plinth.sdk")

Point = tuple[str, str, float, int, int]  # run_id, key, value, step, timestamp
BATCH_LIMIT = 100_000
"""Most points in one request; bigger backlogs go as several batches."""


class RunBuffer:
    """Buffers points, params and tags per process and flushes them in the background."""

    def __init__(
        self,
        send: Callable[[str, RunBatch], Any],
        *,
        interval: float = 0.1,
        max_points: int = 20_000,
    ) -> None:
        self._send = send
        self._interval = interval
        self._max_points = max_points
        self._points: deque[Point] = deque()
        self._creates: dict[str, RunCreate] = {}
        self._creating: frozenset[str] = frozenset()
        """Runs whose creation a flush has taken and not yet delivered."""
        self._params: dict[str, dict[str, Any]] = {}
        self._tags: dict[str, dict[str, str]] = {}
        self._pending_lock = threading.Lock()
        self._wakeup = threading.Event()
        self._send_lock = threading.Lock()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._thread_lock = threading.Lock()
        self.failed_batches = 0
        self.failed_runs: dict[str, PlinthError] = {}
        """Runs whose creation the store refused, and why."""

    def append(self, point: Point) -> None:
        """Queue one point (called from the training loop: must stay cheap)."""
        self._points.append(point)
        if self._thread is None:
            self._start()
        if len(self._points) >= self._max_points:
            self._wakeup.set()

    def add_create(self, run_id: str, spec: RunCreate) -> None:
        """Start a run with its first batch (the whole of a short run is then one request)."""
        with self._pending_lock:
            self._creates[run_id] = spec
        self._ensure_started()

    def is_pending(self, run_id: str) -> bool:
        """Whether the run's creation has not reached the store yet (queued, or on its way
        in a flush running now): a ``flush()`` then waits until it has."""
        return run_id in self._creates or run_id in self._creating

    def add_params(self, run_id: str, params: dict[str, Any]) -> None:
        with self._pending_lock:
            self._params.setdefault(run_id, {}).update(params)
        self._ensure_started()

    def add_tags(self, run_id: str, tags: dict[str, str]) -> None:
        with self._pending_lock:
            self._tags.setdefault(run_id, {}).update(tags)
        self._ensure_started()

    def _ensure_started(self) -> None:
        if self._thread is None:
            self._start()

    def _start(self) -> None:
        with self._thread_lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="plinth-run-flusher", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        while not self._stopping:
            self._wakeup.wait(self._interval)
            self._wakeup.clear()
            try:
                self.flush()
            except Exception:  # the flusher must survive anything; flush() logs details
                logger.exception("background flush failed")

    def flush(self, updates: dict[str, RunUpdate] | None = None) -> None:
        """Send everything queued now; ``updates`` ride along with the last batch of each
        run (used to finish a run in the same request as its final points)."""
        with self._send_lock:
            pending = dict(updates or {})
            with self._pending_lock:
                creates = self._creates
                self._creating = frozenset(creates)  # first: is_pending reads without the lock
                self._creates = {}
                params, self._params = self._params, {}
                tags, self._tags = self._tags, {}
            try:
                self._send_all(pending, creates, params, tags)
            finally:
                self._creating = frozenset()

    def _send_all(
        self,
        pending: dict[str, RunUpdate],
        creates: dict[str, RunCreate],
        params: dict[str, dict[str, Any]],
        tags: dict[str, dict[str, str]],
    ) -> None:
        while self._points:
            for run_id, batch in self._drain(pending, creates, params, tags):
                self._deliver(run_id, batch)
        for run_id in dict.fromkeys([*creates, *params, *tags, *pending]):
            self._deliver(
                run_id,
                RunBatch.model_construct(
                    batch_id=new_id(),
                    create=creates.pop(run_id, None),
                    metrics=None,
                    params=params.pop(run_id, {}),
                    tags=tags.pop(run_id, {}),
                    update=pending.pop(run_id, None),
                ),
            )

    def _drain(
        self,
        updates: dict[str, RunUpdate],
        creates: dict[str, RunCreate],
        params: dict[str, dict[str, Any]],
        tags: dict[str, dict[str, str]],
    ) -> list[tuple[str, RunBatch]]:
        points = self._points
        popleft = points.popleft
        items = [popleft() for _ in range(min(len(points), BATCH_LIMIT))]
        run_ids = {item[0] for item in items}
        with self._pending_lock:
            # A run started while this flush was under way: its points were appended after
            # the flush took the creations, so its creation goes with them, or they would
            # reach the store before the run exists.
            late = run_ids & self._creates.keys()
            for run_id in late:
                creates[run_id] = self._creates.pop(run_id)
            if late:
                self._creating = self._creating | late
        batches = []
        for run_id in run_ids:
            # list comprehensions per column: far cheaper than zip(*items) on 10^5 tuples
            chosen = items if len(run_ids) == 1 else [i for i in items if i[0] == run_id]
            metrics = MetricBatch.model_construct(
                keys=[i[1] for i in chosen],
                values=[i[2] for i in chosen],
                steps=[i[3] for i in chosen],
                timestamps=[i[4] for i in chosen],
            )
            batch = RunBatch.model_construct(
                batch_id=new_id(),
                create=creates.pop(run_id, None),
                metrics=metrics,
                params=params.pop(run_id, {}),
                tags=tags.pop(run_id, {}),
                update=updates.pop(run_id, None) if not points else None,
            )
            batches.append((run_id, batch))
        return batches

    def _deliver(self, run_id: str, batch: RunBatch) -> None:
        delay = 0.05
        warned = False
        while True:
            try:
                self._send(run_id, batch)
                return
            except (Unavailable, OSError) as exc:
                # local database busy, server unreachable without a spool, or a spool that
                # cannot be written (disk full): the batch waits in memory and tries again
                if self._stopping:
                    raise
                if isinstance(exc, OSError) and not warned:
                    logger.warning("plinth cannot spool a batch for run %s: %s", run_id, exc)
                    warned = True
                time.sleep(delay)
                delay = min(delay * 2, 2.0)
            except Conflict as exc:
                if not batch.params or batch.create is not None:
                    self._refused(run_id, batch, exc)
                    return
                # another writer logged one of these params differently: keep the rest
                logger.error(
                    "plinth refused params %s for run %s: %s", list(batch.params), run_id, exc
                )
                batch = batch.model_copy(update={"params": {}, "batch_id": new_id()})
            except PlinthError as exc:
                self._refused(run_id, batch, exc)
                return

    def _refused(self, run_id: str, batch: RunBatch, error: PlinthError) -> None:
        if batch.create is not None:
            self.failed_runs[run_id] = error  # end_run reports it to the caller
        self.failed_batches += 1
        logger.error(
            "plinth refused a batch of %d points for run %s: %s", batch.point_count, run_id, error
        )

    def close(self) -> None:
        """Flush and stop the background thread."""
        self.flush()
        self._stopping = True
        self._wakeup.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
