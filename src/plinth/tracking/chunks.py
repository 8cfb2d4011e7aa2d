"""Metric points stored in chunks: a series' points, a few thousand at a time, as three
little-endian columns (int64 steps, int64 timestamps, float64 values) in one row.

A batch of 10,000 points is one row to write instead of 10,000, and a 100,000-point history
is a few dozen rows to read and one ``numpy`` sort, instead of 100,000 Python tuples. NaN
and ±inf are stored as the IEEE values they are. This module is pure numpy; the SQL that
moves chunks lives in ``sql_chunks``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

CHUNK_POINTS = 8192
"""Target points per chunk: small chunks of a series are merged into chunks this big."""

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Points:
    """Points of one series, in columns."""

    steps: Ints
    timestamps: Ints
    values: Floats

    def __len__(self) -> int:
        return len(self.steps)

    @classmethod
    def from_lists(
        cls, steps: Sequence[int], timestamps: Sequence[int], values: Sequence[float]
    ) -> Points:
        return cls(
            np.asarray(steps, dtype=np.int64),
            np.asarray(timestamps, dtype=np.int64),
            np.asarray(values, dtype=np.float64),
        )

    @classmethod
    def decode(cls, steps: bytes, timestamps: bytes, values: bytes) -> Points:
        return cls(
            np.frombuffer(steps, dtype="<i8").astype(np.int64, copy=False),
            np.frombuffer(timestamps, dtype="<i8").astype(np.int64, copy=False),
            np.frombuffer(values, dtype="<f8").astype(np.float64, copy=False),
        )

    def encode(self) -> tuple[bytes, bytes, bytes]:
        return (
            self.steps.astype("<i8", copy=False).tobytes(),
            self.timestamps.astype("<i8", copy=False).tobytes(),
            self.values.astype("<f8", copy=False).tobytes(),
        )

    def take(self, index: npt.NDArray[np.intp] | slice) -> Points:
        return Points(self.steps[index], self.timestamps[index], self.values[index])

    def sorted(self) -> Points:
        """By step, then timestamp; points equal in both keep the order they came in."""
        return self.take(np.lexsort((self.timestamps, self.steps)))

    def window(self, min_step: int | None, max_step: int | None) -> Points:
        if min_step is None and max_step is None:
            return self
        keep = np.ones(len(self), dtype=bool)
        if min_step is not None:
            keep &= self.steps >= min_step
        if max_step is not None:
            keep &= self.steps <= max_step
        return self.take(np.flatnonzero(keep))

    def split(self, size: int = CHUNK_POINTS) -> list[Points]:
        return [self.take(slice(i, i + size)) for i in range(0, len(self), size)]


def concatenate(parts: Iterable[Points]) -> Points:
    chosen = list(parts)
    if not chosen:
        empty = np.zeros(0, dtype=np.int64)
        return Points(empty, empty.copy(), np.zeros(0, dtype=np.float64))
    if len(chosen) == 1:
        return chosen[0]
    return Points(
        np.concatenate([p.steps for p in chosen]),
        np.concatenate([p.timestamps for p in chosen]),
        np.concatenate([p.values for p in chosen]),
    )


@dataclass(frozen=True)
class Buckets:
    """A downsampled series: per bucket of steps its first step, last timestamp, and the
    mean, min and max of its values (NaN ignored; NaN when the bucket holds only NaN)."""

    steps: Ints
    timestamps: Ints
    means: Floats
    lows: Floats
    highs: Floats


def downsample(points: Points, max_points: int) -> Buckets:
    """At most ``max_points`` buckets of equal step width over sorted ``points``."""
    low, high = int(points.steps[0]), int(points.steps[-1])
    width = max(1, -(-(high - low + 1) // max_points))  # ceiling division, in Python ints
    # unsigned differences cannot overflow even when the steps span the whole int64 range
    offsets = points.steps.astype(np.uint64) - np.uint64(low & 0xFFFFFFFFFFFFFFFF)
    bucket = offsets // np.uint64(width)
    starts = np.concatenate(([0], np.flatnonzero(np.diff(bucket)) + 1))
    values = points.values
    finite_or_inf = ~np.isnan(values)
    counts = np.add.reduceat(finite_or_inf.astype(np.int64), starts)
    sums = np.add.reduceat(np.where(finite_or_inf, values, 0.0), starts)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    return Buckets(
        steps=points.steps[starts],
        timestamps=np.maximum.reduceat(points.timestamps, starts),
        means=means,
        lows=np.fmin.reduceat(values, starts),
        highs=np.fmax.reduceat(values, starts),
    )
