"""The example `make demo` runs, against a real server process: it trains and tracks, then
registers the best model behind a gate, promotes it and loads it back by its alias."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from tests.servers import plinth_process

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "sklearn_tracking.py"


def test_the_demo_example_tracks_registers_and_promotes(tmp_path: Path) -> None:
    (tmp_path / "server").mkdir()
    with plinth_process(tmp_path / "server") as (url, _process):
        env = {k: v for k, v in os.environ.items() if not k.startswith("PLINTH_")}
        env.update(PLINTH_URL=url, PLINTH_DATA_DIR=str(tmp_path / "client"))
        finished = subprocess.run(
            [sys.executable, str(EXAMPLE)],
            env=env,
            capture_output=True,
            text=True,
            timeout=240,
            check=False,
        )
        assert finished.returncode == 0, finished.stderr
        assert "registered wine-classifier v1" in finished.stdout
        assert "accuracy_score >= 0.9: ok" in finished.stdout
        api = f"{url}/api/v1"
        champion = httpx.get(f"{api}/models/wine-classifier/aliases/champion").json()
        assert champion["version"] == 1
        assert champion["metrics"]["accuracy_score"] >= 0.9
        experiments = httpx.get(f"{api}/experiments").json()["items"]
        assert {"wine", "breast-cancer"} <= {e["name"] for e in experiments}
        page = httpx.get(f"{url}/models/wine-classifier")
        assert page.status_code == 200
        assert "champion" in page.text
