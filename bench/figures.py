"""What every benchmark script records of a figure's repetitions."""

from __future__ import annotations

import statistics
from typing import Any


def stats(values: list[float]) -> dict[str, Any]:
    """Median (the figure), range and count, and every value, for RESULTS.md and the JSON."""
    ordered = sorted(values)
    return {
        "median": statistics.median(ordered),
        "min": ordered[0],
        "max": ordered[-1],
        "n": len(ordered),
        "values": [round(v, 6) for v in ordered],
    }
