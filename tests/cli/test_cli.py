"""The ``plinth`` command, in-process through Typer's runner, on a fresh data dir."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from plinth.cli.main import app
from plinth.config import Settings
from plinth.connect import connect
from plinth.db.migrate import head_revision

runner = CliRunner()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


def plinth(data_dir: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["--data-dir", str(data_dir), *args], env={"COLUMNS": "200"})
    return result.exit_code, result.output


def seed(data_dir: Path) -> list[str]:
    platform = connect(Settings(data_dir=data_dir))
    tracking = platform.tracking
    experiment = tracking.create_experiment("cli")
    ids = []
    for lr, acc in ((0.1, 0.9), (0.01, 0.7)):
        run = tracking.create_run(experiment_id=experiment.id, params={"lr": lr, "model": "rf"})
        tracking.log_metrics(run.id, {"acc": acc})
        ids.append(run.id)
    platform.close()
    return ids


def test_experiments_create_list_delete(data_dir: Path) -> None:
    code, out = plinth(data_dir, "experiments", "create", "vision", "--description", "cv")
    assert code == 0
    experiment_id = out.strip()
    code, out = plinth(data_dir, "experiments", "list")
    assert code == 0
    assert "vision" in out
    assert "Default" in out
    code, _ = plinth(data_dir, "experiments", "create", "vision")
    assert code == 2  # already exists: a clear error, not a traceback
    code, out = plinth(data_dir, "experiments", "delete", experiment_id)
    assert code == 0
    _, out = plinth(data_dir, "experiments", "list")
    assert "vision" not in out
    _, out = plinth(data_dir, "experiments", "list", "--view", "deleted")
    assert "vision" in out


def test_runs_list_show_search_compare_delete(data_dir: Path) -> None:
    first, second = seed(data_dir)
    code, out = plinth(data_dir, "runs", "list", "-e", "cli")
    assert code == 0
    assert first in out
    assert second in out
    code, out = plinth(data_dir, "runs", "show", first)
    assert code == 0
    assert "0.1" in out
    assert "acc" in out
    code, out = plinth(
        data_dir, "runs", "search", "metrics.acc > 0.8", "--order-by", "metrics.acc DESC"
    )
    assert code == 0
    assert first in out
    assert second not in out
    code, out = plinth(data_dir, "runs", "compare", first, second)
    assert code == 0
    assert "differing params: lr" in out
    code, out = plinth(data_dir, "runs", "delete", second)
    assert code == 0
    _, out = plinth(data_dir, "runs", "list", "-e", "cli")
    assert second not in out


def test_bad_input_is_a_clear_error(data_dir: Path) -> None:
    code, out = plinth(data_dir, "runs", "search", "metrics.acc >")
    assert code == 2
    assert "position 13" in out
    code, out = plinth(data_dir, "runs", "show", "0" * 32)
    assert code == 2
    assert "does not exist" in out
    code, out = plinth(data_dir, "sync")
    assert code == 2
    assert "PLINTH_URL" in out


def test_db_upgrade_and_current(data_dir: Path) -> None:
    code, out = plinth(data_dir, "db", "upgrade")
    assert code == 0
    assert "revision" in out
    code, out = plinth(data_dir, "db", "current")
    assert code == 0
    assert f"current: {head_revision()}" in out


def test_server_refuses_a_public_bind_without_auth(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "plinth", "server", "--host", "0.0.0.0"]
    done = subprocess.run(
        [*command, "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "refusing to start" in done.stderr
    assert "--insecure" in done.stderr
