"""The hot path: applying a run batch (metrics, params, tags) and reading metric history.

A batch is one transaction: its idempotency key, params, tags, metric points and the
latest-value update of each series commit together or not at all. Points go in with one
``executemany`` (SQLite) or one ``COPY`` (PostgreSQL), never one ORM object per row.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sqlalchemy import Connection, and_, bindparam, case, select, update

from plinth.db.dialect import insert_ignoring_conflicts, upsert
from plinth.db.engine import Database
from plinth.db.tables.tracking import applied_batches, metric_series, params, run_tags
from plinth.entities.common import now_ms
from plinth.entities.params import encode_param, numeric_value
from plinth.entities.tracking import MetricBatch, MetricHistory
from plinth.errors import Conflict, FieldError
from plinth.tracking.chunks import Points
from plinth.tracking.sql_chunks import write_points

_NO_STEP = -(2**63) + 1  # a new series' "latest step": any real point is newer
# Lock order: concurrent batches to one run lock the same params, tags and series rows, so
# each batch takes them in one order (params, tags, new series by key; series updates by
# id) and no two transactions wait on each other in a cycle (a PostgreSQL deadlock).


def claim_batch(
    conn: Connection, database: Database, batch_id: str, run_id: str, points: int, actor: str
) -> bool:
    """Record an idempotency key; False if it was already applied."""
    key = "tracking.claim_batch"
    statement = database.caches.get(key)
    if statement is None:
        statement = database.caches[key] = insert_ignoring_conflicts(
            database, applied_batches
        ).returning(applied_batches.c.batch_id)
    row = {"batch_id": batch_id, "run_id": run_id, "points": points}
    claimed = conn.execute(statement, {**row, "applied_at": now_ms(), "actor": actor}).first()
    return claimed is not None


def claimed_run(conn: Connection, batch_id: str) -> str | None:
    """The run an applied batch went to (None if no batch has this key)."""
    run_id = conn.execute(
        select(applied_batches.c.run_id).where(applied_batches.c.batch_id == batch_id)
    ).scalar()
    return None if run_id is None else str(run_id)


def write_params(
    conn: Connection,
    database: Database,
    run_id: str,
    values: dict[str, Any],
    *,
    verify: bool = True,
) -> None:
    """Insert new params; a key logged before must come back with the very same value
    (``verify=False`` skips that check for a run created in this transaction)."""
    rows = []
    for key, value in sorted(values.items()):  # see the lock order above
        text, param_type = encode_param(value)
        rows.append(
            {
                "run_id": run_id,
                "key": key,
                "value": text,
                "value_type": param_type,
                "value_num": numeric_value(value),
            }
        )
    conn.execute(insert_ignoring_conflicts(database, params), rows)
    if not verify:
        return
    stored = conn.execute(
        select(params.c.key, params.c.value, params.c.value_type).where(
            params.c.run_id == run_id, params.c.key.in_(list(values))
        )
    )
    wanted = {row["key"]: (row["value"], row["value_type"]) for row in rows}
    errors = [
        FieldError(
            f"params.{row.key}",
            f"already logged as {row.value!r} ({row.value_type}); "
            f"cannot change it to {wanted[row.key][0]!r} ({wanted[row.key][1]})",
        )
        for row in stored
        if (row.value, row.value_type) != wanted[row.key]
    ]
    if errors:
        raise Conflict("a param's value cannot change once logged", errors)


def write_tags(conn: Connection, database: Database, run_id: str, values: dict[str, str]) -> None:
    rows = [{"run_id": run_id, "key": k, "value": v} for k, v in sorted(values.items())]
    conn.execute(upsert(database, run_tags, ["run_id", "key"], ["value"]), rows)


def write_metrics(
    conn: Connection,
    database: Database,
    run_id: str,
    batch: MetricBatch,
    *,
    new_run: bool = False,
) -> None:
    """Insert the points and move each series' latest value (``new_run``: the run was
    created in this transaction, so none of its series exist yet)."""
    if not batch.keys:
        return
    keys = list(dict.fromkeys(batch.keys))
    if new_run:
        series_ids = _create_series(conn, run_id, keys)
    else:
        series_ids = _series_ids(conn, database, run_id, keys)
    if len(series_ids) == 1:
        only = next(iter(series_ids.values()))
        sids: list[int] = [only] * len(batch.keys)
        by_series = {only: Points.from_lists(batch.steps, batch.timestamps, batch.values)}
    else:
        sids = [series_ids[k] for k in batch.keys]
        everything = Points.from_lists(batch.steps, batch.timestamps, batch.values)
        sid_array = np.asarray(sids, dtype=np.int64)
        by_series = {
            sid: everything.take(np.flatnonzero(sid_array == sid)) for sid in series_ids.values()
        }
    write_points(conn, by_series)
    _update_latest(conn, sids, batch)


def _new_series_row(run_id: str, key: str) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "key": key,
        "latest_value": None,
        "latest_step": _NO_STEP,
        "latest_timestamp": -1,
        "point_count": 0,
    }


def _create_series(conn: Connection, run_id: str, keys: list[str]) -> dict[str, int]:
    created = conn.execute(
        metric_series.insert().returning(metric_series.c.key, metric_series.c.id),
        [_new_series_row(run_id, key) for key in keys],
    )
    return {row.key: row.id for row in created}


_SERIES_CACHE = "tracking.series_ids"
_SERIES_CACHE_LIMIT = 100_000


def _series_ids(
    conn: Connection, database: Database, run_id: str, keys: list[str]
) -> dict[str, int]:
    """Series id per key, creating missing series. Ids of committed series never change, so
    they are cached per database; ids created in this transaction are not (it may roll back)."""
    cache: dict[tuple[str, str], int] = database.caches.setdefault(_SERIES_CACHE, {})
    ids = {k: cache[(run_id, k)] for k in keys if (run_id, k) in cache}
    if len(ids) == len(keys):
        return ids

    def lookup(wanted: list[str]) -> dict[str, int]:
        key_match = (
            metric_series.c.key == wanted[0]
            if len(wanted) == 1
            else metric_series.c.key.in_(wanted)
        )
        found = conn.execute(
            select(metric_series.c.key, metric_series.c.id).where(
                metric_series.c.run_id == run_id, key_match
            )
        )
        return {row.key: row.id for row in found}

    unknown = [k for k in keys if k not in ids]
    committed = lookup(unknown)
    if len(cache) + len(committed) > _SERIES_CACHE_LIMIT:
        cache.clear()
    cache.update({(run_id, k): sid for k, sid in committed.items()})
    ids.update(committed)
    missing = sorted(k for k in unknown if k not in committed)  # see the lock order above
    if missing:
        conn.execute(
            insert_ignoring_conflicts(database, metric_series),
            [_new_series_row(run_id, k) for k in missing],
        )
        ids.update(lookup(missing))
    return ids


_LATEST_UPDATE = (
    update(metric_series)
    .where(metric_series.c.id == bindparam("sid"))
    .values(
        latest_value=case(
            (
                _newer := (
                    (bindparam("step") > metric_series.c.latest_step)
                    | and_(
                        bindparam("step") == metric_series.c.latest_step,
                        bindparam("ts") >= metric_series.c.latest_timestamp,
                    )
                ),
                bindparam("value"),
            ),
            else_=metric_series.c.latest_value,
        ),
        latest_timestamp=case((_newer, bindparam("ts")), else_=metric_series.c.latest_timestamp),
        latest_step=case((_newer, bindparam("step")), else_=metric_series.c.latest_step),
        point_count=metric_series.c.point_count + bindparam("n"),
    )
)


def _update_latest(conn: Connection, sids: list[int], batch: MetricBatch) -> None:
    """Per series: the point with the greatest (step, timestamp) and how many points came."""
    sid_array = np.asarray(sids, dtype=np.int64)
    steps = np.asarray(batch.steps, dtype=np.int64)
    stamps = np.asarray(batch.timestamps, dtype=np.int64)
    order = np.lexsort((stamps, steps, sid_array))
    sorted_sids = sid_array[order]
    last_of_group = np.flatnonzero(np.append(sorted_sids[1:] != sorted_sids[:-1], True))
    counts = np.diff(np.concatenate(([-1], last_of_group)))
    updates = []
    for position, n in zip(last_of_group.tolist(), counts.tolist(), strict=True):
        index = int(order[position])
        value = batch.values[index]
        updates.append(
            {
                "sid": sids[index],
                "step": batch.steps[index],
                "ts": batch.timestamps[index],
                "value": None if value != value else value,
                "n": n,
            }
        )
    conn.execute(_LATEST_UPDATE, updates)


def empty_history(run_id: str, key: str) -> MetricHistory:
    return MetricHistory(run_id=run_id, key=key, steps=[], timestamps=[], values=[], total_points=0)
