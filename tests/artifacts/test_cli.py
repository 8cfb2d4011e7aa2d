"""``plinth artifacts``: put, ls, get and gc, in-process through Typer's runner."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from plinth.artifacts.backends import open_blob_store
from plinth.cli.main import app
from plinth.config import Settings
from plinth.connect import connect
from tests.artifacts.conftest import storage_settings
from tests.servers import threaded_plinth

runner = CliRunner()


def plinth(data_dir: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["--data-dir", str(data_dir), *args], env={"COLUMNS": "200"})
    return result.exit_code, result.output


def test_put_ls_get(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    platform = connect(Settings(data_dir=data_dir))
    run_id = platform.tracking.create_run().id
    platform.close()
    folder = tmp_path / "model"
    (folder / "sub").mkdir(parents=True)
    (folder / "weights.bin").write_bytes(os.urandom(1000))
    (folder / "sub" / "config.json").write_text('{"layers": 3}')
    (folder / "alias.json").symlink_to(folder / "sub" / "config.json")  # inside: fine

    code, out = plinth(data_dir, "artifacts", "put", run_id, str(folder), "model")
    assert code == 0, out
    code, out = plinth(data_dir, "artifacts", "ls", run_id, "model")
    assert code == 0, out
    assert "model/weights.bin" in out
    assert "model/sub/" in out
    assert "not-needed" in out

    dest = tmp_path / "out"
    code, out = plinth(data_dir, "artifacts", "get", run_id, "model", str(dest))
    assert code == 0, out
    assert (dest / "model" / "weights.bin").read_bytes() == (folder / "weights.bin").read_bytes()
    assert (dest / "model" / "sub" / "config.json").read_text() == '{"layers": 3}'
    code, out = plinth(data_dir, "artifacts", "get", run_id, "model/sub/config.json", str(dest))
    assert code == 0, out
    assert (dest / "config.json").read_text() == '{"layers": 3}'
    code, out = plinth(data_dir, "artifacts", "get", run_id, "nothing-here", str(dest))
    assert code == 2


def test_symlinks_out_of_the_folder_are_refused(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    platform = connect(Settings(data_dir=data_dir))
    run_id = platform.tracking.create_run().id
    platform.close()
    secret = tmp_path / "secret.txt"
    secret.write_text("do not upload")
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "leak.txt").symlink_to(secret)
    code, out = plinth(data_dir, "artifacts", "put", run_id, str(folder))
    assert code == 2
    assert "outside" in out
    code, out = plinth(data_dir, "artifacts", "ls", run_id)
    assert "leak.txt" not in out


def test_get_never_writes_outside_the_destination(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    platform = connect(Settings(data_dir=data_dir))
    run_id = platform.tracking.create_run().id
    platform.artifacts.upload(run_id, "sub/file.txt", io.BytesIO(b"data"))
    platform.close()
    dest = tmp_path / "out"
    dest.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (dest / "sub").symlink_to(elsewhere)  # a planted link on the way
    code, _ = plinth(data_dir, "artifacts", "get", run_id, "sub", str(dest))
    assert code == 2
    assert list(elsewhere.iterdir()) == []


def test_gc_dry_run_then_for_real(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    settings = Settings(data_dir=data_dir)
    platform = connect(settings)
    run_id = platform.tracking.create_run().id
    platform.artifacts.upload(run_id, "kept.txt", io.BytesIO(b"kept"))
    platform.close()
    blobs = open_blob_store(settings)
    blobs.put(io.BytesIO(b"orphan one"))
    blobs.put(io.BytesIO(b"orphan two"))

    code, out = plinth(data_dir, "artifacts", "gc", "--dry-run", "--grace-seconds", "0")
    assert code == 0, out
    assert "would remove 2" in out
    assert len(list(blobs.list_blobs())) == 3
    code, out = plinth(data_dir, "artifacts", "gc")
    assert code == 0, out
    assert "removed 0" in out  # younger than the default hour
    code, out = plinth(data_dir, "artifacts", "gc", "--grace-seconds", "0")
    assert code == 0, out
    assert "removed 2" in out
    assert len(list(blobs.list_blobs())) == 1
    code, out = plinth(data_dir, "--url", "http://127.0.0.1:9", "artifacts", "gc")
    assert code == 2


def test_put_direct_sends_the_bytes_to_s3(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    settings = storage_settings(request, tmp_path / "server", "s3")
    with threaded_plinth(settings) as url:
        client = connect(Settings(data_dir=tmp_path / "client", url=url))
        run_id = client.tracking.create_run().id
        weights = tmp_path / "weights.bin"
        weights.write_bytes(os.urandom(5000))
        result = runner.invoke(
            app,
            ["--url", url, "artifacts", "put", run_id, str(weights), "--direct"],
            env={"COLUMNS": "200"},
        )
        assert result.exit_code == 0, result.output
        assert b"".join(client.artifacts.download(run_id, "weights.bin")) == weights.read_bytes()
        client.close()
    code, out = plinth(tmp_path / "local", "artifacts", "put", run_id, str(weights), "--direct")
    assert code == 2
    assert "go through a server" in out
