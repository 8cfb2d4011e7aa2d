"""The process-wide SDK session: which platform the fluent API talks to, and its buffer.

Built on first use (never at import) from ``PLINTH_*`` settings, or from ``set_url``.
"""

from __future__ import annotations

import atexit
import threading
from typing import Any

from plinth.config import Settings
from plinth.connect import Platform, connect
from plinth.entities.tracking import RunBatch
from plinth.sdk.buffer import RunBuffer


class Session:
    """A platform plus the metric buffer that writes to it."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.platform: Platform = connect(settings)
        self.experiment_id: str | None = None
        """Where runs go when ``start_run`` names no experiment (``set_experiment``)."""
        self.project = "default"
        self.buffer = RunBuffer(
            self._send_batch,
            interval=settings.flush_interval,
            max_points=settings.flush_max_points,
        )

    def _send_batch(self, run_id: str, batch: RunBatch) -> Any:
        return self.platform.tracking.store.log_batch(run_id, batch)

    def close(self) -> None:
        self.buffer.close()
        self.platform.close()


_lock = threading.Lock()
_session: Session | None = None
_overrides: dict[str, Any] = {}


def current() -> Session:
    """The session, connecting on first use."""
    global _session
    if _session is None:
        with _lock:
            if _session is None:
                _session = Session(Settings(**_overrides))
                atexit.register(_at_exit)
    return _session


def configure(**settings: Any) -> None:
    """Replace the session with one built from these settings (``url=...``, ``data_dir=...``)."""
    global _session
    with _lock:
        old, _session = _session, None
        _overrides.clear()
        _overrides.update({k: v for k, v in settings.items() if v is not None})
    if old is not None:
        old.close()


def _at_exit() -> None:
    from plinth.sdk import fluent

    fluent.end_all_runs()
    if _session is not None:
        _session.close()
