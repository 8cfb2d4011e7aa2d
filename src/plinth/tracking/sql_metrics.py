"""The hot path: applying a run batch (metrics, params, tags) and reading metric history.

A batch is one transaction: its idempotency key, params, tags, metric points and the
latest-value update of each series commit together or not at all. Points go in with one
``executemany`` (SQLite) or one ``COPY`` (PostgreSQL), never one ORM object per row.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sqlalchemy import Connection, and_, bindparam, case, select, update

from plinth.db.dialect import insert_ignoring_conflicts, prepared, upsert
from plinth.db.engine import Database
from plinth.db.prepared import Prepared
from plinth.db.tables.tracking import applied_batches, metric_series, params, run_tags
from plinth.entities.common import now_ms
from plinth.entities.params import encode_param, numeric_value
from plinth.entities.tracking import MetricBatch, MetricHistory
from plinth.errors import Conflict, FieldError
from plinth.tracking.chunks import Points
from plinth.tracking.sql_chunks import small_chunks_for, write_points

_NO_STEP = -(2**63) + 1  # a new series' "latest step": any real point is newer
# Lock order: concurrent batches to one run lock the same params, tags and series rows, so
# each batch takes them in one order (params, tags, new series by key; series updates by
# id) and no two transactions wait on each other in a cycle (a PostgreSQL deadlock).


def claim_batch(
    conn: Connection, database: Database, batch_id: str, run_id: str, points: int, actor: str
) -> bool:
    """Record an idempotency key; False if it was already applied."""
    statement = prepared(
        database,
        "tracking.claim_batch",
        lambda: insert_ignoring_conflicts(database, applied_batches).returning(
            applied_batches.c.batch_id
        ),
    )
    row = {"batch_id": batch_id, "run_id": run_id, "points": points}
    return bool(statement.execute(conn, {**row, "applied_at": now_ms(), "actor": actor}))


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
    prepared(
        database, "tracking.insert_params", lambda: insert_ignoring_conflicts(database, params)
    ).executemany(conn, rows)
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
    prepared(
        database,
        "tracking.upsert_tags",
        lambda: upsert(database, run_tags, ["run_id", "key"], ["value"]),
    ).executemany(conn, rows)


def write_metrics(
    conn: Connection,
    database: Database,
    run_id: str,
    batch: MetricBatch,
    *,
    new_run: bool = False,
) -> None:
    """Store the points and move each series' latest value (``new_run``: the run was
    created in this transaction, so its series are created whole, latest value included)."""
    if not batch.keys:
        return
    by_key = _points_by_key(batch)
    if new_run:
        by_series = _create_series(conn, run_id, by_key)
        write_points(conn, by_series, counted=True)
        return
    series_ids = _series_ids(conn, database, run_id, list(by_key))
    by_series = {series_ids[key]: points for key, points in by_key.items()}
    write_points(conn, by_series)
    _update_latest(conn, by_series)


def _points_by_key(batch: MetricBatch) -> dict[str, Points]:
    everything = Points.from_lists(batch.steps, batch.timestamps, batch.values)
    keys = list(dict.fromkeys(batch.keys))
    if len(keys) == 1:
        return {keys[0]: everything}
    key_array = np.asarray(batch.keys, dtype=object)
    return {key: everything.take(np.flatnonzero(key_array == key)) for key in sorted(keys)}


def _latest(points: Points) -> tuple[int, int, float | None]:
    """The point with the greatest (step, timestamp); later arrivals win ties."""
    index = int(np.lexsort((points.timestamps, points.steps))[-1])
    value = float(points.values[index])
    return (
        int(points.steps[index]),
        int(points.timestamps[index]),
        None if value != value else value,
    )


def _new_series_row(run_id: str, key: str) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "key": key,
        "latest_value": None,
        "latest_step": _NO_STEP,
        "latest_timestamp": -1,
        "point_count": 0,
        "small_chunks": 0,
    }


_INSERT_SERIES = Prepared(metric_series.insert())
_SERIES_OF_RUN = Prepared(
    select(metric_series.c.key, metric_series.c.id).where(
        metric_series.c.run_id == bindparam("run_id")
    )
)


def _create_series(conn: Connection, run_id: str, by_key: dict[str, Points]) -> dict[int, Points]:
    """Insert the series of a new run, each with its latest value and counts already set."""
    rows = []
    for key, points in by_key.items():
        step, stamp, value = _latest(points)
        rows.append(
            {
                "run_id": run_id,
                "key": key,
                "latest_value": value,
                "latest_step": step,
                "latest_timestamp": stamp,
                "point_count": len(points),
                "small_chunks": small_chunks_for(len(points)),
            }
        )
    _INSERT_SERIES.executemany(conn, rows)
    created = _SERIES_OF_RUN.execute(conn, {"run_id": run_id})
    return {series_id: by_key[key] for key, series_id in created}


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
        chosen = set(wanted)  # a run's series are few: read them all, keep the wanted ones
        found = _SERIES_OF_RUN.execute(conn, {"run_id": run_id})
        return {key: series_id for key, series_id in found if key in chosen}

    unknown = [k for k in keys if k not in ids]
    committed = lookup(unknown)
    if len(cache) + len(committed) > _SERIES_CACHE_LIMIT:
        cache.clear()
    cache.update({(run_id, k): sid for k, sid in committed.items()})
    ids.update(committed)
    missing = sorted(k for k in unknown if k not in committed)  # see the lock order above
    if missing:
        prepared(
            database,
            "tracking.insert_series",
            lambda: insert_ignoring_conflicts(database, metric_series),
        ).executemany(conn, [_new_series_row(run_id, k) for k in missing])
        ids.update(lookup(missing))
    return ids


_LATEST_UPDATE = Prepared(
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


def _update_latest(conn: Connection, by_series: dict[int, Points]) -> None:
    """Per series: count the points, and move the latest value if one of them is newer."""
    updates = []
    for series_id, points in by_series.items():
        step, stamp, value = _latest(points)
        updates.append(
            {"sid": series_id, "step": step, "ts": stamp, "value": value, "n": len(points)}
        )
    _LATEST_UPDATE.executemany(conn, updates)


def empty_history(run_id: str, key: str) -> MetricHistory:
    return MetricHistory(run_id=run_id, key=key, steps=[], timestamps=[], values=[], total_points=0)
