"""A client whose server is down the whole time spools everything, and ``plinth sync`` later
uploads it, in order, with nothing lost and nothing duplicated, even when replayed twice."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.servers import free_port, plinth_process

import plinth
from plinth.client.spool import Spool

pytestmark = pytest.mark.e2e

STEPS = 3_000


def _value(step: int) -> float:
    return 1.0 / (step + 1)


def _sync(url: str, client_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLINTH_")}
    env.update(PLINTH_URL=url, PLINTH_DATA_DIR=str(client_dir), PLINTH_HTTP_RETRY_SECONDS="1")
    return subprocess.run(
        [sys.executable, "-m", "plinth", "sync"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def offline_sdk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The SDK pointed at a loopback port where nothing listens; reset at the end."""
    url = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("PLINTH_DATA_DIR", str(tmp_path / "client"))
    monkeypatch.setenv("PLINTH_HTTP_RETRY_SECONDS", "0.2")
    monkeypatch.setenv("PLINTH_SYSTEM_METRICS", "false")
    plinth.set_url(url)
    yield url
    try:
        while (active := plinth.active_run()) is not None:
            plinth.end_run("killed", run_id=active.id)
    finally:
        plinth.set_url(None)


def test_offline_runs_are_spooled_and_synced_exactly_once(offline_sdk: str, tmp_path: Path) -> None:
    url = offline_sdk
    client_dir = tmp_path / "client"
    spool_dir = client_dir / "spool"
    with plinth.start_run(name="offline", params={"lr": 0.01}, tags={"team": "nlp"}) as run:
        for step in range(STEPS):
            plinth.log_metric("loss", _value(step), step=step)
            if step % 1_000 == 0:
                plinth.flush()  # several batches, each spooled on its own
        plinth.log_param("layers", 3)
        plinth.set_tag("phase", "offline")
    plinth.set_url(None)  # the SDK is done: only the spool remains

    spooled = Spool(spool_dir).pending()
    assert len(spooled) >= 4  # the run's creation, then its batches
    saved = tmp_path / "spool-copy"
    shutil.copytree(spool_dir, saved)

    server_dir = tmp_path / "server"
    server_dir.mkdir()
    port = int(url.rsplit(":", 1)[1])
    with plinth_process(server_dir, port=port) as (server_url, _process):
        assert server_url == url
        first = _sync(url, client_dir)
        assert first.returncode == 0, first.stdout + first.stderr
        assert f"synced {len(spooled)} request(s)" in first.stdout
        assert Spool(spool_dir).pending() == []
        _assert_run_complete(url, run.id)

        # a replay of the very same spool (a sync that died before deleting its files)
        for path in saved.glob("*.json"):
            shutil.copy(path, spool_dir / path.name)
        again = _sync(url, client_dir)
        assert again.returncode == 0, again.stdout + again.stderr
        _assert_run_complete(url, run.id)

        assert "nothing to sync" in _sync(url, client_dir).stdout
    assert not (spool_dir / "failed").exists()


def _assert_run_complete(url: str, run_id: str) -> None:
    api = f"{url}/api/v1"
    run = httpx.get(f"{api}/runs/{run_id}", timeout=30).json()
    assert run["name"] == "offline"
    assert run["status"] == "finished"
    assert run["params"] == {"lr": 0.01, "layers": 3}
    assert run["tags"]["team"] == "nlp"
    assert run["tags"]["phase"] == "offline"
    history = httpx.get(
        f"{api}/runs/{run_id}/metric-history", params={"key": "loss"}, timeout=30
    ).json()
    assert history["total_points"] == STEPS
    assert history["steps"] == list(range(STEPS))
    assert history["values"] == [_value(s) for s in range(STEPS)]
    assert run["metrics"]["loss"]["step"] == STEPS - 1
