"""Reading and writing metric chunks (see ``chunks``) in the database.

Each batch adds one chunk per series it touches (or a few, past ``CHUNK_POINTS``), without
reading anything back. Series logged a point or two at a time would pile up small chunks, so
once a series has ``COMPACT_AFTER`` of them they are merged into full ones in the same
transaction: every point is rewritten a bounded number of times and a history is always a
few dozen rows.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, bindparam, delete, select, update

from plinth.db.prepared import Prepared
from plinth.db.tables.tracking import metric_chunks, metric_series
from plinth.tracking.chunks import CHUNK_POINTS, Points, concatenate, downsample

COMPACT_AFTER = 64
"""Small chunks a series may gather before they are merged."""

History = tuple[list[int], list[int], list[float], list[float] | None, list[float] | None, int]

_INSERT_CHUNK = Prepared(metric_chunks.insert())
_COUNT_SMALL = Prepared(
    update(metric_series)
    .where(metric_series.c.id == bindparam("sid"))
    .values(small_chunks=metric_series.c.small_chunks + bindparam("added"))
)
_SMALL_CHUNKS = Prepared(
    select(metric_series.c.small_chunks).where(metric_series.c.id == bindparam("sid"))
)


def small_chunks_for(points: int) -> int:
    """How many small chunks ``points`` new points make (split into full ones plus a rest)."""
    return 1 if points % CHUNK_POINTS else 0


def write_points(conn: Connection, by_series: dict[int, Points], *, counted: bool = False) -> None:
    """Store each series' new points as chunks, merging small chunks where they piled up
    (``counted``: the series were created with their small-chunk count already set)."""
    rows: list[dict[str, Any]] = []
    small: dict[int, int] = {}
    for series_id, points in by_series.items():
        rows.extend(_chunk_row(series_id, part) for part in points.split())
        if small_chunks_for(len(points)):
            small[series_id] = small.get(series_id, 0) + 1
    _INSERT_CHUNK.executemany(conn, rows)
    if not small or counted:
        return
    _COUNT_SMALL.executemany(conn, [{"sid": sid, "added": n} for sid, n in small.items()])
    for series_id in small:
        if _SMALL_CHUNKS.execute(conn, {"sid": series_id})[0][0] >= COMPACT_AFTER:
            _compact(conn, series_id)


def _chunk_row(series_id: int, points: Points) -> dict[str, Any]:
    steps, stamps, values = points.encode()
    return {
        "series_id": series_id,
        "first_step": int(points.steps.min()),
        "last_step": int(points.steps.max()),
        "point_count": len(points),
        "steps": steps,
        "timestamps": stamps,
        "point_values": values,
    }


def _compact(conn: Connection, series_id: int) -> None:
    small = conn.execute(
        select(
            metric_chunks.c.id,
            metric_chunks.c.steps,
            metric_chunks.c.timestamps,
            metric_chunks.c.point_values,
        )
        .where(
            metric_chunks.c.series_id == series_id,
            metric_chunks.c.point_count < CHUNK_POINTS,
        )
        .order_by(metric_chunks.c.id)
    ).all()
    merged = concatenate(Points.decode(r.steps, r.timestamps, r.point_values) for r in small)
    conn.execute(delete(metric_chunks).where(metric_chunks.c.id.in_([r.id for r in small])))
    parts = merged.sorted().split()
    _INSERT_CHUNK.executemany(conn, [_chunk_row(series_id, part) for part in parts])
    remaining_small = sum(1 for part in parts if len(part) < CHUNK_POINTS)
    conn.execute(
        update(metric_series)
        .where(metric_series.c.id == series_id)
        .values(small_chunks=remaining_small)
    )


def read_points(
    conn: Connection, series_id: int, min_step: int | None, max_step: int | None
) -> Points:
    """A series' points (within the step window), sorted by step then timestamp."""
    statement = select(
        metric_chunks.c.steps, metric_chunks.c.timestamps, metric_chunks.c.point_values
    ).where(metric_chunks.c.series_id == series_id)
    if min_step is not None:
        statement = statement.where(metric_chunks.c.last_step >= min_step)
    if max_step is not None:
        statement = statement.where(metric_chunks.c.first_step <= max_step)
    rows = conn.execute(statement.order_by(metric_chunks.c.id)).all()
    points = concatenate(Points.decode(s, t, v) for s, t, v in rows)
    return points.window(min_step, max_step).sorted()


def read_history(
    conn: Connection,
    series_id: int,
    max_points: int | None,
    min_step: int | None,
    max_step: int | None,
) -> History:
    """Columns of a series, downsampled into buckets past ``max_points``, and how many
    points the window holds."""
    points = read_points(conn, series_id, min_step, max_step)
    total = len(points)
    if max_points is None or total <= max_points:
        return (
            points.steps.tolist(),
            points.timestamps.tolist(),
            points.values.tolist(),
            None,
            None,
            total,
        )
    buckets = downsample(points, max_points)
    return (
        buckets.steps.tolist(),
        buckets.timestamps.tolist(),
        buckets.means.tolist(),
        buckets.lows.tolist(),
        buckets.highs.tolist(),
        total,
    )
