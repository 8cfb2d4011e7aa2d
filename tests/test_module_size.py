"""No module grows into MLflow's handlers.py: every src module stays under 600 lines."""

from __future__ import annotations

from pathlib import Path

LIMIT = 600
SOURCE = Path(__file__).resolve().parents[1] / "src" / "plinth"


def test_no_module_over_the_limit() -> None:
    too_long = {
        str(path.relative_to(SOURCE)): count
        for path in SOURCE.rglob("*.py")
        if (count := len(path.read_text().splitlines())) > LIMIT
    }
    assert too_long == {}
