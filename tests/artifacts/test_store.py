"""The run artifact store contract: one body per behaviour, on SQLite and PostgreSQL with a
local folder or S3 (moto) behind them, and through the REST client against a real server."""

from __future__ import annotations

import hashlib
import io
import os
import pickle
from typing import Any

import httpx
import pytest

from plinth.entities.models import ScanStatus
from plinth.errors import Conflict, InvalidArgument, NotFound, UnsafeArtifact
from tests.artifacts.conftest import SMALL_PARTS, ArtifactEnv


class Exploit:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, ("echo pwned",))


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_upload_list_download(env: ArtifactEnv) -> None:
    artifacts = env.platform.artifacts
    run_id = env.new_run()
    info = artifacts.upload(run_id, "plots/loss.csv", io.BytesIO(b"step,loss\n0,1.0\n"))
    assert (info.path, info.size, info.digest) == ("plots/loss.csv", 16, sha(b"step,loss\n0,1.0\n"))
    assert info.scan_status is ScanStatus.NOT_NEEDED
    artifacts.upload(run_id, "README.md", io.BytesIO(b"# notes"))
    assert [(a.path, a.is_dir) for a in artifacts.list(run_id)] == [
        ("README.md", False),
        ("plots", True),
    ]
    assert [a.path for a in artifacts.list(run_id, "plots")] == ["plots/loss.csv"]
    assert artifacts.stat(run_id, "plots/loss.csv") == info
    assert b"".join(artifacts.download(run_id, "plots/loss.csv")) == b"step,loss\n0,1.0\n"
    with pytest.raises(NotFound):
        artifacts.stat(run_id, "plots/missing.csv")
    with pytest.raises(NotFound):
        list(artifacts.download(run_id, "missing"))
    with pytest.raises(NotFound):
        artifacts.upload("f" * 32, "x.txt", io.BytesIO(b"x"))


def test_identical_content_is_stored_once(env: ArtifactEnv) -> None:
    artifacts = env.platform.artifacts
    data = os.urandom(200_000)  # above the REST client's part size: a resumable upload
    first, second = env.new_run(), env.new_run()
    artifacts.upload(first, "a.bin", io.BytesIO(data))
    artifacts.upload(first, "copy/a.bin", io.BytesIO(data))
    artifacts.upload(second, "b.bin", io.BytesIO(data))
    assert env.blob_digests() == [sha(data)]
    assert b"".join(artifacts.download(second, "b.bin")) == data


def test_uploading_a_path_again_replaces_the_file(env: ArtifactEnv) -> None:
    artifacts = env.platform.artifacts
    run_id = env.new_run()
    artifacts.upload(run_id, "model.txt", io.BytesIO(b"v1"))
    artifacts.upload(run_id, "model.txt", io.BytesIO(b"version 2"))
    assert b"".join(artifacts.download(run_id, "model.txt")) == b"version 2"
    assert [a.size for a in artifacts.list(run_id)] == [9]


@pytest.mark.parametrize(
    "path",
    [
        "../escape.txt",
        "a/../../escape.txt",
        "/etc/passwd",
        "a\\b.txt",
        "a/\x00.txt",
        "",
        "a\x7f.html",
        "c1\x85.txt",
        "inv/\ufffd",  # what invalid UTF-8 in a URL decodes to
    ],
)
def test_paths_cannot_leave_the_run(env: ArtifactEnv, path: str) -> None:
    run_id = env.new_run()
    with pytest.raises(InvalidArgument):
        env.platform.artifacts.upload(run_id, path, io.BytesIO(b"x"))
    with pytest.raises(InvalidArgument):
        env.platform.artifacts.start_upload(run_id, path)
    assert env.platform.artifacts.list(run_id) == []


def test_a_path_is_a_file_or_a_folder_never_both(env: ArtifactEnv) -> None:
    artifacts = env.platform.artifacts
    run_id = env.new_run()
    artifacts.upload(run_id, "model/sub/weights.bin", io.BytesIO(b"w"))
    with pytest.raises(Conflict, match="is a folder"):
        artifacts.upload(run_id, "model/sub", io.BytesIO(b"file"))
    with pytest.raises(Conflict, match="is a file"):
        artifacts.upload(run_id, "model/sub/weights.bin/inner", io.BytesIO(b"x"))
    upload = artifacts.start_upload(run_id, "model")
    artifacts.upload_part(upload.id, 1, io.BytesIO(b"parted"))
    with pytest.raises(Conflict):
        artifacts.complete_upload(upload.id)
    assert [i.path for i in artifacts.list(run_id, "model/sub")] == ["model/sub/weights.bin"]
    artifacts.upload(run_id, "model/sub/weights.bin", io.BytesIO(b"again"))  # a file, again


def test_big_files_go_up_in_parts_and_come_down_whole(env: ArtifactEnv) -> None:
    artifacts = env.platform.artifacts
    run_id = env.new_run()
    data = os.urandom(5 * SMALL_PARTS + 123)
    info = artifacts.upload(run_id, "weights.npy", io.BytesIO(data))
    assert (info.size, info.digest) == (len(data), sha(data))
    assert b"".join(artifacts.download(run_id, "weights.npy")) == data


def test_a_resumable_upload_is_invisible_until_complete(env: ArtifactEnv) -> None:
    artifacts = env.platform.artifacts
    run_id = env.new_run()
    pieces = [os.urandom(1000), os.urandom(1000), os.urandom(500)]
    upload = artifacts.start_upload(run_id, "data/train.parquet", size=2500)
    assert (upload.state, upload.parts, upload.size) == ("open", [], 2500)
    for number in (3, 1, 2):  # any order
        part = artifacts.upload_part(upload.id, number, io.BytesIO(pieces[number - 1]))
        assert part.size == len(pieces[number - 1])
    assert artifacts.list(run_id) == []
    assert [(p.number, p.size) for p in artifacts.get_upload(upload.id).parts] == [
        (1, 1000),
        (2, 1000),
        (3, 500),
    ]
    info = artifacts.complete_upload(upload.id)
    assert (info.path, info.size, info.digest) == (
        "data/train.parquet",
        2500,
        sha(b"".join(pieces)),
    )
    assert artifacts.complete_upload(upload.id) == info  # a retried completion is harmless
    assert artifacts.get_upload(upload.id).state == "completed"
    assert b"".join(artifacts.download(run_id, "data/train.parquet")) == b"".join(pieces)
    with pytest.raises(Conflict):
        artifacts.upload_part(upload.id, 4, io.BytesIO(b"late"))


def test_a_cut_off_upload_resumes_with_the_missing_parts(env: ArtifactEnv) -> None:
    artifacts = env.platform.artifacts
    run_id = env.new_run()
    data = os.urandom(8 * 1024)
    parts = [data[i : i + 1024] for i in range(0, len(data), 1024)]
    upload = artifacts.start_upload(run_id, "checkpoint.ckpt.tar", size=len(data))
    for number in range(1, 5):  # half the parts, then the client "crashes"
        artifacts.upload_part(upload.id, number, io.BytesIO(parts[number - 1]))
    artifacts.upload_part(upload.id, 2, io.BytesIO(parts[1]))  # a retried part replaces it
    received = {p.number for p in artifacts.get_upload(upload.id).parts}
    assert received == {1, 2, 3, 4}
    for number in range(1, len(parts) + 1):
        if number not in received:
            artifacts.upload_part(upload.id, number, io.BytesIO(parts[number - 1]))
    info = artifacts.complete_upload(upload.id)
    assert info.digest == sha(data)
    assert b"".join(artifacts.download(run_id, "checkpoint.ckpt.tar")) == data


def test_incomplete_uploads_are_refused_and_aborts_forget(env: ArtifactEnv) -> None:
    artifacts = env.platform.artifacts
    run_id = env.new_run()
    upload = artifacts.start_upload(run_id, "x.bin", size=10)
    artifacts.upload_part(upload.id, 1, io.BytesIO(b"12345"))
    artifacts.upload_part(upload.id, 3, io.BytesIO(b"12345"))
    with pytest.raises(InvalidArgument, match="part 2 is missing"):
        artifacts.complete_upload(upload.id)
    artifacts.upload_part(upload.id, 2, io.BytesIO(b"1"))
    with pytest.raises(InvalidArgument, match="declared as 10 bytes"):
        artifacts.complete_upload(upload.id)
    artifacts.abort_upload(upload.id)
    with pytest.raises(NotFound):
        artifacts.get_upload(upload.id)
    with pytest.raises(NotFound):
        artifacts.upload_part(upload.id, 1, io.BytesIO(b"x"))
    with pytest.raises(InvalidArgument):
        artifacts.upload_part(artifacts.start_upload(run_id, "y").id, 0, io.BytesIO(b"x"))
    with pytest.raises(NotFound):
        artifacts.start_upload("e" * 32, "x.bin")
    assert artifacts.list(run_id) == []


def test_unsafe_pickles_are_refused_with_what_was_found(env: ArtifactEnv) -> None:
    artifacts = env.platform.artifacts
    run_id = env.new_run()
    payload = pickle.dumps(Exploit())
    with pytest.raises(UnsafeArtifact) as refused:
        artifacts.upload(run_id, "model.pkl", io.BytesIO(payload))
    assert refused.value.status == 422
    assert any("system" in error.message for error in refused.value.errors)
    upload = artifacts.start_upload(run_id, "nested/model.joblib")
    artifacts.upload_part(upload.id, 1, io.BytesIO(payload))
    with pytest.raises(UnsafeArtifact):
        artifacts.complete_upload(upload.id)
    assert artifacts.list(run_id) == []
    assert env.blob_digests() == []  # nothing was stored, nothing references it


def test_safe_pickles_are_stored_with_their_scan_status(env: ArtifactEnv) -> None:
    artifacts = env.platform.artifacts
    run_id = env.new_run()
    info = artifacts.upload(run_id, "params.pkl", io.BytesIO(pickle.dumps({"lr": [0.1, 0.2]})))
    assert info.scan_status is ScanStatus.CLEAN
    assert artifacts.stat(run_id, "params.pkl").scan_status is ScanStatus.CLEAN
    assert artifacts.list(run_id)[0].scan_status is ScanStatus.CLEAN


def test_direct_links_exist_on_s3_and_are_refused_elsewhere(env: ArtifactEnv) -> None:
    artifacts = env.platform.artifacts
    run_id = env.new_run()
    data = os.urandom(3000)
    artifacts.upload(run_id, "direct.bin", io.BytesIO(data))
    if not env.s3:
        with pytest.raises(Conflict):
            artifacts.link(run_id, "direct.bin")
        return
    link = artifacts.link(run_id, "direct.bin", expires_seconds=60)
    assert (link.digest, link.size, link.method) == (sha(data), len(data), "GET")
    assert httpx.get(link.url).content == data
    with pytest.raises(InvalidArgument):
        artifacts.link(run_id, "direct.bin", expires_seconds=0)
    with pytest.raises(NotFound):
        artifacts.link(run_id, "missing.bin")


def test_direct_uploads_go_to_s3_and_are_hashed_and_scanned_on_commit(env: ArtifactEnv) -> None:
    artifacts = env.platform.artifacts
    run_id = env.new_run()
    if not env.s3:
        with pytest.raises(Conflict):
            artifacts.direct_upload(run_id)
        return
    data = os.urandom(200_000)
    upload = artifacts.direct_upload(run_id, expires_seconds=120)
    assert upload.method == "PUT"
    assert httpx.put(upload.url, content=data).status_code == 200
    assert artifacts.list(run_id) == []  # nothing visible before the commit
    info = artifacts.commit_direct_upload(run_id, upload.token, "data/direct.bin", sha(data))
    assert (info.path, info.digest, info.size) == ("data/direct.bin", sha(data), len(data))
    assert b"".join(artifacts.download(run_id, "data/direct.bin")) == data
    assert env.blob_digests() == [sha(data)]
    with pytest.raises(NotFound):  # a token is spent by its commit
        artifacts.commit_direct_upload(run_id, upload.token, "again.bin")

    wrong = artifacts.direct_upload(run_id)
    httpx.put(wrong.url, content=b"not what the client meant")
    with pytest.raises(InvalidArgument, match="hash to"):
        artifacts.commit_direct_upload(run_id, wrong.token, "wrong.bin", sha(data))
    unsafe = artifacts.direct_upload(run_id)
    httpx.put(unsafe.url, content=pickle.dumps(Exploit()))
    with pytest.raises(UnsafeArtifact):
        artifacts.commit_direct_upload(run_id, unsafe.token, "model.pkl")
    never = artifacts.direct_upload(run_id)
    with pytest.raises(NotFound):
        artifacts.commit_direct_upload(run_id, never.token, "never.bin")
    with pytest.raises(InvalidArgument):
        artifacts.commit_direct_upload(run_id, "not-a-token", "x.bin")
    with pytest.raises(NotFound):
        artifacts.direct_upload("0" * 32)
    assert [i.path for i in artifacts.list(run_id, "data")] == ["data/direct.bin"]
    assert {i.path for i in artifacts.list(run_id)} == {"data"}
    assert env.blob_digests() == [sha(data)]


def test_the_rest_client_uploads_directly_when_storage_allows(env: ArtifactEnv) -> None:
    if not env.remote:
        pytest.skip("the REST client's direct upload")
    from plinth.client.artifacts import RestRunArtifactStore

    artifacts = env.platform.artifacts
    assert isinstance(artifacts, RestRunArtifactStore)
    run_id = env.new_run()
    data = os.urandom(300_000)
    if not env.s3:
        with pytest.raises(Conflict):
            artifacts.upload_direct(run_id, "big.bin", io.BytesIO(data))
        return
    info = artifacts.upload_direct(run_id, "big.bin", io.BytesIO(data))
    assert (info.digest, info.size) == (sha(data), len(data))
    assert b"".join(artifacts.download(run_id, "big.bin")) == data


def test_a_completion_that_loses_the_race_returns_the_winners_file(
    env: ArtifactEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two completions of one upload at once (a client retrying a slow one): the first
    removes the parts when it is done; the second, still joining them, gets the same file
    instead of a 404 or a 500."""
    if env.remote:
        pytest.skip("the race is between two server-side completions: the SQL store's")
    from plinth.artifacts import sql_uploads

    artifacts = env.platform.artifacts
    run_id = env.new_run()
    upload = artifacts.start_upload(run_id, "data/raced.bin", size=6)
    artifacts.upload_part(upload.id, 1, io.BytesIO(b"raced!"))
    database, blobs = artifacts.database, artifacts.blobs  # type: ignore[attr-defined]
    real_assemble = blobs.assemble
    winner: list[Any] = []

    def assemble_after_the_winner(upload_id: str, parts: Any) -> Any:
        monkeypatch.setattr(blobs, "assemble", real_assemble)
        winner.append(sql_uploads.complete_upload(database, blobs, upload_id))
        return real_assemble(upload_id, parts)  # the parts are gone now

    monkeypatch.setattr(blobs, "assemble", assemble_after_the_winner)
    loser = sql_uploads.complete_upload(database, blobs, upload.id)
    assert winner
    assert loser == winner[0]
    assert b"".join(artifacts.download(run_id, "data/raced.bin")) == b"raced!"


def _race_upload(artifacts: Any, run_id: str, path: str, start: Any, outcomes: list[str]) -> None:
    from plinth.errors import PlinthError

    start.wait(10)
    try:
        artifacts.upload(run_id, path, io.BytesIO(path.encode()))
        outcomes.append("stored")
    except Conflict:
        outcomes.append("conflict")
    except PlinthError as exc:  # anything else fails the test below
        outcomes.append(repr(exc))


def test_a_file_and_a_folder_of_one_name_never_both_land(env: ArtifactEnv) -> None:
    """``a`` and ``a/b`` uploaded at the same moment: one wins, the other is a Conflict (on
    PostgreSQL the check and the write of one must not interleave with the other's)."""
    import threading

    artifacts = env.platform.artifacts
    for _ in range(8):
        run_id = env.new_run()
        start = threading.Barrier(2)
        outcomes: list[str] = []
        threads = [
            threading.Thread(target=_race_upload, args=(artifacts, run_id, path, start, outcomes))
            for path in ("a", "a/b")
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert sorted(outcomes) == ["conflict", "stored"]
        stored = {info.path for info in artifacts.list(run_id, "a")}
        assert stored in ({"a"}, {"a/b"})  # the file or the folder, never both
