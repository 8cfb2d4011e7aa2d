"""The active-run API: ``with plinth.start_run(): plinth.log_metric("loss", 0.1)``.

Runs get their 32-hex id on the client, so ``start_run`` works even while the server is
unreachable (the creation waits in the spool). Metrics go through the background buffer;
params, tags and inputs are written at once so conflicts surface where they happen.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterable, Mapping
from functools import partial
from pathlib import Path
from types import TracebackType
from typing import Any

from plinth.artifacts.local_files import files_to_upload
from plinth.entities import limits
from plinth.entities.common import Page, new_id, now_ms
from plinth.entities.params import same_param
from plinth.entities.tracking import (
    DEFAULT_EXPERIMENT_ID,
    DatasetInput,
    MetricHistory,
    Run,
    RunBatch,
    RunCreate,
    RunStatus,
    RunUpdate,
    run_from_spec,
)
from plinth.errors import Conflict, FieldError, InvalidArgument
from plinth.sdk import session
from plinth.sdk.datasets import describe_dataset
from plinth.sdk.source import current_source, current_user
from plinth.tracking.names import random_run_name
from plinth.tracking.service import build
from plinth.tracking.system_metrics import SystemMonitor, monitor


class ActiveRun:
    """A started run; a context manager that ends it (failed if the block raised)."""

    def __init__(self, run: Run, system_monitor: SystemMonitor | None) -> None:
        self.id = run.id
        self.name = run.name
        self.experiment_id = run.experiment_id
        self._monitor = system_monitor
        self._steps: dict[str, int] = {}
        self._params: dict[str, Any] = dict(run.params)
        """Params this run has: a different value for one of them is refused at the call."""

    @property
    def run(self) -> Run:
        """The run as stored now (fetched from the store)."""
        return get_run(self.id)

    def __enter__(self) -> ActiveRun:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            status = RunStatus.FINISHED
        elif issubclass(exc_type, KeyboardInterrupt):
            status = RunStatus.KILLED
        else:
            status = RunStatus.FAILED
        end_run(status, run_id=self.id)

    def __repr__(self) -> str:
        return f"<ActiveRun {self.name} id={self.id}>"


_stack: list[ActiveRun] = []
_stack_lock = threading.Lock()
_checked_keys: set[str] = set()


def set_url(url: str | None) -> None:
    """Talk to the plinth server at ``url`` (None: back to local mode on the data dir)."""
    session.configure(url=url)


def set_experiment(
    name: str | None = None, *, experiment_id: str | None = None, project: str = "default"
) -> str:
    """Make later runs go to this experiment (created if missing); returns its id."""
    current = session.current()
    if experiment_id is None:
        if name is None:
            raise InvalidArgument.for_field("name", "give a name or an experiment_id")
        experiment_id = current.platform.tracking.get_or_create_experiment(name, project).id
    current.experiment_id, current.project = experiment_id, project
    return experiment_id


def start_run(
    run_id: str | None = None,
    *,
    experiment: str | None = None,
    experiment_id: str | None = None,
    project: str | None = None,
    name: str | None = None,
    nested: bool = False,
    params: Mapping[str, Any] | None = None,
    tags: Mapping[str, Any] | None = None,
    notes: str = "",
    system_metrics: bool | None = None,
) -> ActiveRun:
    """Start (or, with ``run_id``, resume) a run and make it the active one."""
    current = session.current()
    tracking = current.platform.tracking
    with _stack_lock:
        if _stack and not nested:
            raise InvalidArgument.for_field(
                "nested", f"run {_stack[-1].id} is active; end it or pass nested=True"
            )
        parent = _stack[-1].id if _stack else None
    project = project or current.project
    if experiment_id is None and experiment is not None:
        experiment_id = tracking.get_or_create_experiment(experiment, project).id
    experiment_id = experiment_id or current.experiment_id
    if run_id is not None:
        run = _resume(run_id)
    else:
        if parent is not None and current.buffer.is_pending(parent):
            current.buffer.flush()  # the parent must exist before its child names it
        spec: RunCreate = build(
            RunCreate,
            run_id=new_id(),
            experiment_id=experiment_id,
            project=project,
            name=name or random_run_name(),
            start_time=now_ms(),
            user=current_user(),
            source=current_source(),
            parent_run_id=parent,
            notes=notes,
            params=dict(params or {}),
            tags={k: str(v) for k, v in (tags or {}).items()},
        )
        # The run is created by its first batch (within flush_interval, or at end_run), so
        # a short run costs one request; get_run/search_runs flush first.
        current.buffer.add_create(spec.run_id or "", spec)
        run = _pending_run(spec)
    enabled = current.settings.system_metrics if system_metrics is None else system_metrics
    system_monitor = None
    if enabled:
        system_monitor = monitor(current.settings.system_metrics_interval)
        system_monitor.watch(run.id, partial(_log_values, run.id))
    active = ActiveRun(run, system_monitor)
    with _stack_lock:
        _stack.append(active)
    return active


def _pending_run(spec: RunCreate) -> Run:
    """The run as the caller sees it until its creation reaches the store."""
    assert spec.run_id is not None
    assert spec.name is not None
    experiment_id = spec.experiment_id
    if experiment_id is None and spec.project == "default":
        experiment_id = DEFAULT_EXPERIMENT_ID
    return run_from_spec(
        spec,
        run_id=spec.run_id,
        experiment_id=experiment_id or "",
        project=spec.project,
        name=spec.name,
        start_time=spec.start_time or now_ms(),
        created_by="pending",
    )


def _resume(run_id: str) -> Run:
    tracking = session.current().platform.tracking
    tracking.store.get_run(run_id)
    return tracking.store.update_run(run_id, RunUpdate(status=RunStatus.RUNNING))


def active_run() -> ActiveRun | None:
    return _stack[-1] if _stack else None


def _active_id(run_id: str | None = None) -> str:
    if run_id is not None:
        return run_id
    if not _stack:
        raise InvalidArgument.for_field("run_id", "no active run: call plinth.start_run() first")
    return _stack[-1].id


def _created_id(run_id: str | None = None) -> str:
    """The run's id, once the store has it: calls that write straight to the store (inputs,
    artifacts) must not overtake the run's creation, which waits in the buffer."""
    target = _active_id(run_id)
    buffer = session.current().buffer
    if buffer.is_pending(target):
        buffer.flush()
    return target


def end_run(status: RunStatus | str = RunStatus.FINISHED, *, run_id: str | None = None) -> None:
    """End the active run (or ``run_id``): flush its metrics and set its status."""
    run_id = _active_id(run_id)
    status = RunStatus(status)
    with _stack_lock:
        ended = [a for a in _stack if a.id == run_id]
        for active in ended:
            _stack.remove(active)
    for active in ended:
        if active._monitor is not None:
            active._monitor.unwatch(active.id)
    update = RunUpdate(status=status, end_time=now_ms())
    buffer = session.current().buffer
    buffer.flush(updates={run_id: update})
    refused = buffer.failed_runs.pop(run_id, None)
    if refused is not None:
        raise refused


def end_all_runs() -> None:
    """Called at exit: finish whatever is still active, innermost first."""
    while _stack:
        end_run(RunStatus.FINISHED, run_id=_stack[-1].id)


def flush() -> None:
    """Block until every buffered metric has been written (or spooled)."""
    session.current().buffer.flush()


def log_metric(
    key: str,
    value: float,
    step: int | None = None,
    timestamp: int | None = None,
    *,
    run_id: str | None = None,
) -> None:
    """Buffer one point; returns at once. Without ``step``, each key counts 0, 1, 2, ..."""
    if run_id is None:
        if not _stack:
            raise InvalidArgument.for_field(
                "run_id", "no active run: call plinth.start_run() first"
            )
        active = _stack[-1]
        run_id = active.id
    else:
        active = None
    if key not in _checked_keys:
        _check_key(key)
    if step is None:
        if active is None:  # a run named by id counts with the same steps when it is active
            active = _find_active(run_id)
        steps = active._steps if active is not None else _orphan_steps.setdefault(run_id, {})
        step = steps.get(key, -1) + 1
        steps[key] = step
    session.current().buffer.append(
        (
            run_id,
            key,
            float(value),
            step,
            timestamp if timestamp is not None else time.time_ns() // 1_000_000,
        )
    )


_orphan_steps: dict[str, dict[str, int]] = {}


def _check_key(key: str) -> None:
    if (
        not isinstance(key, str)
        or not key
        or len(key) > limits.MAX_NAME_LENGTH
        or not limits.KEY_PATTERN.match(key)
    ):
        raise InvalidArgument.for_field(
            "key", f"{key!r}: 1 to {limits.MAX_NAME_LENGTH} letters, digits, '_-./:' or spaces"
        )
    _checked_keys.add(key)


def log_metrics(
    values: Mapping[str, float],
    step: int | None = None,
    timestamp: int | None = None,
    *,
    run_id: str | None = None,
) -> None:
    for key, value in values.items():
        log_metric(key, value, step, timestamp, run_id=run_id)


def _log_values(run_id: str, values: Mapping[str, float], step: int) -> None:
    stamp = now_ms()
    for key, value in values.items():
        log_metric(key, value, step, timestamp=stamp, run_id=run_id)


def log_param(key: str, value: Any, *, run_id: str | None = None) -> Any:
    """Log a param (its type is kept); logging a different value for it later is an error."""
    log_params({key: value}, run_id=run_id)
    return value


def log_params(params: Mapping[str, Any], *, run_id: str | None = None) -> None:
    """Log params. For the active run they are checked here (names, sizes, and against the
    values already logged) and sent with the next background flush; for any other run they
    are written at once."""
    target = _active_id(run_id)
    active = _find_active(target)
    checked: dict[str, Any] = build(RunBatch, params=dict(params)).params
    if active is None:
        session.current().platform.tracking.log_params(target, checked)
        return
    errors = [
        FieldError(
            f"params.{key}",
            f"already logged as {active._params[key]!r}; cannot change it to {value!r}",
        )
        for key, value in checked.items()
        if key in active._params and not same_param(active._params[key], value)
    ]
    if errors:
        raise Conflict("a param's value cannot change once logged", errors)
    active._params.update(checked)
    session.current().buffer.add_params(target, checked)


def set_tag(key: str, value: Any, *, run_id: str | None = None) -> None:
    set_tags({key: value}, run_id=run_id)


def set_tags(tags: Mapping[str, Any], *, run_id: str | None = None) -> None:
    """Set tags (a later value replaces an earlier one); sent with the next flush."""
    target = _active_id(run_id)
    checked: dict[str, str] = build(RunBatch, tags={k: str(v) for k, v in tags.items()}).tags
    if _find_active(target) is None:
        session.current().platform.tracking.set_tags(target, checked)
        return
    session.current().buffer.add_tags(target, checked)


def _find_active(run_id: str) -> ActiveRun | None:
    for active in reversed(_stack):
        if active.id == run_id:
            return active
    return None


def log_input(
    data: Any = None,
    *,
    name: str,
    context: str = "training",
    source: str | None = None,
    digest: str | None = None,
    schema: dict[str, Any] | None = None,
    run_id: str | None = None,
) -> DatasetInput:
    """Record a data set the run read (a DataFrame, an array, or a digest you computed)."""
    dataset = (
        data
        if isinstance(data, DatasetInput)
        else describe_dataset(
            data, name=name, source=source, context=context, digest=digest, schema=schema
        )
    )
    session.current().platform.tracking.log_inputs(_created_id(run_id), [dataset])
    return dataset


def log_artifact(
    local_path: str | os.PathLike[str],
    artifact_path: str | None = None,
    *,
    run_id: str | None = None,
) -> None:
    """Upload a file to ``artifact_path/<file name>`` of the run."""
    path = Path(local_path)
    if not path.is_file():
        raise InvalidArgument.for_field("local_path", f"{path} is not a file")
    destination = f"{artifact_path.strip('/')}/{path.name}" if artifact_path else path.name
    with open(path, "rb") as source:
        session.current().platform.artifacts.upload(_created_id(run_id), destination, source)


def log_artifacts(
    local_dir: str | os.PathLike[str],
    artifact_path: str | None = None,
    *,
    run_id: str | None = None,
) -> int:
    """Upload every file under ``local_dir``, keeping the folder layout; returns the count.
    A symlink that leads out of the folder is refused rather than followed."""
    files = files_to_upload(Path(local_dir), (artifact_path or "").strip("/"))
    target = _created_id(run_id)
    for file, destination in files:
        with open(file, "rb") as source:
            session.current().platform.artifacts.upload(target, destination, source)
    return len(files)


def get_run(run_id: str) -> Run:
    flush()
    return session.current().platform.tracking.store.get_run(run_id)


def search_runs(
    filter: str = "",
    order_by: Iterable[str] = (),
    max_results: int = 1000,
    *,
    experiment_ids: Iterable[str] = (),
    experiment_names: Iterable[str] = (),
    project: str | None = None,
    page_token: str | None = None,
) -> list[Run]:
    """Runs matching ``filter``, in ``order_by`` order, at most ``max_results``."""
    flush()
    tracking = session.current().platform.tracking
    ids = list(experiment_ids)
    for experiment_name in experiment_names:
        ids.append(tracking.store.get_experiment_by_name(project or "default", experiment_name).id)
    found: list[Run] = []
    token = page_token
    while len(found) < max_results:
        page: Page[Run] = tracking.search_runs(
            filter=filter,
            order_by=list(order_by),
            experiment_ids=ids,
            project=project,
            max_results=min(max_results - len(found), limits.MAX_RESULTS),
            page_token=token,
        )
        found.extend(page.items)
        token = page.next_page_token
        if token is None:
            break
    return found


def get_metric_history(run_id: str, key: str, *, max_points: int | None = None) -> MetricHistory:
    flush()
    return session.current().platform.tracking.get_metric_history(
        run_id, key, max_points=max_points
    )


def sync() -> int:
    """Upload what the client spooled while the server was unreachable."""
    store = session.current().platform.tracking.store
    return int(store.sync()) if hasattr(store, "sync") else 0
