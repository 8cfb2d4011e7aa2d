"""``plinth models`` and ``plinth lineage``, in-process through Typer's runner."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from plinth.cli.main import app
from plinth.config import Settings
from plinth.connect import connect
from tests.registry.logged_models import trained

runner = CliRunner()


def plinth(data_dir: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["--data-dir", str(data_dir), *args], env={"COLUMNS": "250"})
    return result.exit_code, result.output


def seed(data_dir: Path, *accuracies: float) -> list[str]:
    platform = connect(Settings(data_dir=data_dir))
    sources = [trained(platform, {"accuracy": a}) for a in accuracies]
    platform.close()
    return sources


def test_register_promote_through_gates_approve_and_roll_back(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first, second, third = seed(data, 0.90, 0.95, 0.97)
    for source in (first, second, third):
        code, out = plinth(data, "models", "register", source, "iris")
        assert code == 0, out
    assert "registered models:/iris/3" in out
    assert plinth(data, "models", "register", "runs:/" + "0" * 32 + "/model", "iris")[0] == 2
    code, out = plinth(data, "models", "promote", "iris", "1", "--alias", "champion")
    assert (code, "moved iris@champion: nothing -> v1" in out) == (0, True)
    gates = tmp_path / "gates.yaml"
    gates.write_text("gates:\n  - accuracy >= 0.9\n  - beats accuracy by 0.01\n")
    code, out = plinth(
        data,
        "models",
        "gates",
        "set",
        "iris",
        "--file",
        str(gates),
        "--gate",
        "1 approval from ml-lead",
    )
    assert code == 0, out
    code, out = plinth(data, "models", "gates", "show", "iris")
    assert out.splitlines() == [
        "accuracy >= 0.9",
        "beats accuracy by 0.01",
        "1 approval from ml-lead",
    ]
    code, out = plinth(data, "models", "promote", "iris", "models:/iris/2", "-a", "champion")
    assert code == 3, out  # a request was opened
    assert "FAIL" in out
    assert "0 of 1 approvals" in out
    request_id = re.search(r"promotion request ([0-9a-f]{32})", out)
    assert request_id is not None
    code, out = plinth(data, "models", "approve", request_id[1])
    assert code == 2  # no role yet: a clear error
    assert "ml-lead" in out
    assert plinth(data, "models", "approvers", "add", "iris", "local", "--role", "ml-lead")[0] == 0
    assert "local  ml-lead" in plinth(data, "models", "approvers", "list", "iris")[1]
    code, out = plinth(data, "models", "requests", "iris", "--status", "open")
    assert request_id[1] in out
    code, out = plinth(data, "models", "approve", request_id[1], "--comment", "ok")
    assert code == 0, out
    assert "moved iris@champion: v1 -> v2" in out
    code, out = plinth(
        data, "models", "rollback", "iris", "--alias", "champion", "--reason", "oops"
    )
    assert (code, "v2 -> v1" in out) == (0, True)
    code, out = plinth(data, "models", "history", "iris", "--alias", "champion")
    assert code == 0
    assert "rollback" in out
    assert "oops" in out
    assert "approved" in out
    assert "@champion -> v1" in plinth(data, "models", "aliases", "iris")[1]
    code, out = plinth(data, "models", "show", "iris")
    assert code == 0
    assert "@champion -> v1" in out
    assert "v3" in out
    code, out = plinth(data, "models", "list")
    assert "iris" in out
    assert (
        plinth(data, "models", "approvers", "remove", "iris", "local", "--role", "ml-lead")[0] == 0
    )
    assert plinth(data, "models", "promote", "iris", "3", "--alias", "no way")[0] == 2


def test_lineage_tree(tmp_path: Path) -> None:
    data = tmp_path / "data"
    [source] = seed(data, 0.9)
    plinth(data, "models", "register", source, "iris")
    plinth(data, "models", "promote", "iris", "1", "--alias", "champion")
    code, out = plinth(data, "lineage", "models:/iris@champion")
    assert code == 0, out
    assert "upstream" in out
    run = f"run:{source.split('/')[1]}"
    for node in ("models:/iris/1", run, "dataset:default/train-set@train-1"):
        assert node in out
    code, out = plinth(data, "lineage", "dataset:default/train-set@train-1", "--direction", "down")
    assert "downstream" in out
    assert "models:/iris@champion" in out
    code, out = plinth(data, "lineage", "models:/iris/1", "--depth", "1", "--direction", "up")
    assert run in out
    assert "dataset:" not in out
    assert plinth(data, "lineage", "run:nope")[0] == 2


def test_webhooks_commands(tmp_path: Path) -> None:
    data = tmp_path / "data"
    code, out = plinth(
        data,
        "models",
        "webhooks",
        "add",
        "http://127.0.0.1:9/hook",
        "--event",
        "dev.plinth.registry.alias.moved",
    )
    assert code == 0, out
    hook_id = re.search(r"webhook ([0-9a-f]{32})", out)
    assert hook_id is not None
    assert re.search(r"secret [0-9a-f]{64}", out)
    code, out = plinth(data, "models", "webhooks", "list")
    assert hook_id[1] in out
    assert "alias.moved" in out
    code, out = plinth(data, "models", "webhooks", "deliveries", hook_id[1])
    assert code == 0
    assert "Deliveries (0)" in out
    assert plinth(data, "models", "webhooks", "remove", hook_id[1])[0] == 0
    assert hook_id[1] not in plinth(data, "models", "webhooks", "list")[1]
    assert plinth(data, "models", "webhooks", "add", "not-a-url")[0] == 2
