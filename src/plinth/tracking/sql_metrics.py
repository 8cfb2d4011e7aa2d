"""The hot path: applying a run batch (metrics, params, tags) and reading metric history.

A batch is one transaction: its idempotency key, params, tags, metric points and the
latest-value update of each series commit together or not at all. Points go in with one
``executemany`` (SQLite) or one ``COPY`` (PostgreSQL), never one ORM object per row.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from sqlalchemy import BigInteger, Connection, and_, bindparam, case, cast, func, select, update

from plinth.db.dialect import insert_ignoring_conflicts, upsert
from plinth.db.engine import Database
from plinth.db.tables.tracking import applied_batches, metric_series, metrics, params, run_tags
from plinth.entities.common import now_ms
from plinth.entities.params import encode_param, numeric_value
from plinth.entities.tracking import MetricBatch, MetricHistory
from plinth.errors import Conflict, FieldError

_NO_STEP = -(2**63) + 1  # a new series' "latest step": any real point is newer
_SQLITE_ROWS_PER_STATEMENT = 100
"""SQLite inserts rows 100 to a statement: ~2.5x faster than one-row executemany, and far
below its limit of 32,766 bound variables."""
_SQLITE_INSERT_ONE = "INSERT INTO metrics (series_id, step, timestamp, value) VALUES (?, ?, ?, ?)"
_SQLITE_INSERT_MANY = "INSERT INTO metrics (series_id, step, timestamp, value) VALUES " + ", ".join(
    ["(?, ?, ?, ?)"] * _SQLITE_ROWS_PER_STATEMENT
)
_PG_COPY = "COPY metrics (series_id, step, timestamp, value) FROM STDIN"
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
    count = len(batch.keys)
    if len(series_ids) == 1:
        sids: list[int] = [next(iter(series_ids.values()))] * count
    else:
        sids = [series_ids[k] for k in batch.keys]
    values: list[float | None] = list(batch.values)
    total = sum(batch.values)
    if total != total:  # some value is NaN (or both infinities): NULL stands for NaN
        values = [None if v != v else v for v in batch.values]
    columns = (sids, batch.steps, batch.timestamps, values)
    if database.is_postgres:
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        with cursor.copy(_PG_COPY) as copy:
            for row in zip(*columns, strict=True):
                copy.write_row(row)
    else:
        _sqlite_insert(conn, columns)
    _update_latest(conn, sids, batch)


def _sqlite_insert(conn: Connection, columns: tuple[list[Any], ...]) -> None:
    """Interleave the columns into one flat parameter list (slice assignment runs in C),
    then insert it ``_SQLITE_ROWS_PER_STATEMENT`` rows to a statement."""
    count = len(columns[0])
    flat: list[Any] = [None] * (count * 4)
    for offset, column in enumerate(columns):
        flat[offset::4] = column
    per = _SQLITE_ROWS_PER_STATEMENT
    width = per * 4
    full = count // per
    if full:
        chunks = [tuple(flat[i * width : (i + 1) * width]) for i in range(full)]
        conn.exec_driver_sql(_SQLITE_INSERT_MANY, chunks)
    rest = flat[full * width :]
    if rest:
        rows = [tuple(rest[i : i + 4]) for i in range(0, len(rest), 4)]
        conn.exec_driver_sql(_SQLITE_INSERT_ONE, rows)


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


def read_history(
    conn: Connection,
    series_id: int,
    total: int,
    max_points: int | None,
    min_step: int | None,
    max_step: int | None,
) -> tuple[list[int], list[int], list[float], list[float] | None, list[float] | None, int]:
    """Columns of a series (downsampled past ``max_points``) and how many points matched."""
    where = [metrics.c.series_id == series_id]
    if min_step is not None:
        where.append(metrics.c.step >= min_step)
    if max_step is not None:
        where.append(metrics.c.step <= max_step)
    if min_step is not None or max_step is not None or max_points is not None:
        bounds = conn.execute(
            select(func.count(), func.min(metrics.c.step), func.max(metrics.c.step)).where(*where)
        ).one()
        total, low, high = int(bounds[0]), bounds[1], bounds[2]
    if max_points is None or total <= max_points:
        steps, stamps, values = _fetch_columns(conn, series_id, min_step, max_step)
        return steps, stamps, _nan_for_null(values), None, None, total
    span = int(high) - int(low)
    width = max(1, -(-(span + 1) // max_points))  # ceiling division
    # integer division of integers on both dialects: each bucket spans ``width`` steps.
    # ``step - low`` overflows a BIGINT only for a series spanning the whole step range;
    # there the origin moves up one step (huge buckets: the first gets one step more).
    origin = int(low) if span < 2**63 - 1 else int(low) + 1
    offset = cast(metrics.c.step - origin, BigInteger)
    bucket = (offset // width).label("bucket")
    buckets = conn.execute(
        select(
            func.min(metrics.c.step),
            func.max(metrics.c.timestamp),
            func.avg(metrics.c.value),
            func.min(metrics.c.value),
            func.max(metrics.c.value),
        )
        .where(*where)
        .group_by(bucket)
        .order_by(bucket)
    ).all()
    steps, stamps, means, lows, highs = (list(column) for column in zip(*buckets, strict=True))
    return (
        steps,
        stamps,
        _nan_for_null(means),
        _nan_for_null(lows),
        _nan_for_null(highs),
        total,
    )


def _fetch_columns(
    conn: Connection, series_id: int, min_step: int | None, max_step: int | None
) -> tuple[list[int], list[int], list[float | None]]:
    """A series' points as three columns, ordered by step then timestamp.

    This is the history hot path, so it skips SQLAlchemy's row objects: PostgreSQL builds
    the three arrays itself (``array_agg``), SQLite rows come straight off the DB-API cursor.
    """
    postgres = conn.dialect.name == "postgresql"
    mark = "%s" if postgres else "?"
    conditions = [f"series_id = {mark}"]
    arguments: list[int] = [series_id]
    if min_step is not None:
        conditions.append(f"step >= {mark}")
        arguments.append(min_step)
    if max_step is not None:
        conditions.append(f"step <= {mark}")
        arguments.append(max_step)
    where = " AND ".join(conditions)
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        if postgres:
            order = "ORDER BY step, timestamp"
            cursor.execute(
                f"SELECT array_agg(step {order}), array_agg(timestamp {order}),"
                f" array_agg(value {order}) FROM metrics WHERE {where}",
                arguments,
            )
            aggregated = cursor.fetchone()
            assert aggregated is not None  # an aggregate always yields one row
            steps, stamps, values = aggregated
            return steps or [], stamps or [], values or []
        cursor.execute(
            f"SELECT step, timestamp, value FROM metrics WHERE {where} ORDER BY step, timestamp",
            arguments,
        )
        rows = cursor.fetchall()
    finally:
        cursor.close()
    if not rows:
        return [], [], []
    steps, stamps, values = (list(column) for column in zip(*rows, strict=True))
    return steps, stamps, values


def _nan_for_null(values: list[Any]) -> list[float]:
    if None not in values:
        return values
    return [math.nan if v is None else float(v) for v in values]


def empty_history(run_id: str, key: str) -> MetricHistory:
    return MetricHistory(run_id=run_id, key=key, steps=[], timestamps=[], values=[], total_points=0)
