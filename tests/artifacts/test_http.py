"""Artifacts over HTTP, as a client other than plinth's sees them: problem+json for bad
paths and unsafe files, bodies cut short that leave nothing behind, corrupt blobs that are
never delivered whole, and a real server process whose memory stays flat."""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from plinth.artifacts.fsspec_backend import FsspecBlobStore
from plinth.client.artifacts import RestRunArtifactStore
from plinth.client.http import HttpClient
from plinth.config import Settings
from plinth.errors import Unavailable
from tests.artifacts.s3 import CREDENTIALS, MotoS3
from tests.server.api import assert_problem
from tests.servers import plinth_process, threaded_plinth


class Exploit:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, ("echo pwned",))


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[httpx.Client, Path]]:
    data_dir = tmp_path / "server"
    with (
        threaded_plinth(Settings(data_dir=data_dir, system_metrics=False)) as url,
        httpx.Client(base_url=f"{url}/api/v1", timeout=30) as client,
    ):
        yield client, data_dir


def new_run(client: httpx.Client) -> str:
    return str(client.post("/runs", json={}).json()["id"])


@pytest.mark.parametrize(
    "encoded", ["..%2F..%2Fetc%2Fpasswd", "%2Fetc%2Fpasswd", "a%2F..%2F..%2Fx", "a%5Cb", "a%00b"]
)
def test_traversal_is_a_400_problem(server: tuple[httpx.Client, Path], encoded: str) -> None:
    client, data_dir = server
    run_id = new_run(client)
    url = f"{client.base_url}runs/{run_id}/artifacts/{encoded}"
    assert_problem(client.put(httpx.URL(url), content=b"x"), 400, "path")
    assert_problem(client.get(httpx.URL(url)), 400, "path")
    assert_problem(client.post(f"/runs/{run_id}/uploads", json={"path": "../x"}), 400, "path")
    assert client.get(f"/runs/{run_id}/artifacts").json() == []
    assert not list((data_dir / "artifacts").rglob("passwd"))


def test_unsafe_pickle_is_a_422_listing_the_findings(server: tuple[httpx.Client, Path]) -> None:
    client, _ = server
    run_id = new_run(client)
    response = client.put(f"/runs/{run_id}/artifacts/model.pkl", content=pickle.dumps(Exploit()))
    problem = assert_problem(response, 422, "model.pkl")
    assert problem["type"] == "https://plinth.dev/problems/unsafe-artifact"
    assert any("system" in error["message"] for error in problem["errors"])
    assert client.get(f"/runs/{run_id}/artifacts").json() == []


def test_bad_requests_on_uploads_are_problems(server: tuple[httpx.Client, Path]) -> None:
    client, _ = server
    run_id = new_run(client)
    upload_id = client.post(f"/runs/{run_id}/uploads", json={"path": "a.bin"}).json()["id"]
    assert_problem(client.put(f"/uploads/{upload_id}/parts/0", content=b"x"), 400, "number")
    assert_problem(client.put(f"/uploads/{upload_id}/parts/10001", content=b"x"), 400)
    assert_problem(client.put(f"/uploads/{'0' * 32}/parts/1", content=b"x"), 404)
    assert_problem(client.post(f"/runs/{run_id}/uploads", json={"path": "a", "size": -1}), 400)
    assert_problem(client.get(f"/runs/{run_id}/artifact-links/a.bin"), 404)
    client.put(f"/runs/{run_id}/artifacts/a.bin", content=b"abc")
    assert_problem(client.get(f"/runs/{run_id}/artifact-links/a.bin"), 409)


def test_a_body_cut_short_leaves_nothing(server: tuple[httpx.Client, Path]) -> None:
    client, data_dir = server
    run_id = new_run(client)
    url = httpx.URL(str(client.base_url))
    with socket.create_connection((url.host, url.port)) as sock:
        sock.sendall(
            f"PUT /api/v1/runs/{run_id}/artifacts/cut.bin HTTP/1.1\r\nHost: x\r\n"
            "Content-Length: 10000000\r\n\r\n".encode()
            + os.urandom(3_000_000)
        )
    deadline = time.monotonic() + 10
    temporary = data_dir / "artifacts" / "tmp"
    while time.monotonic() < deadline and any(temporary.iterdir()):
        time.sleep(0.05)
    assert list(temporary.iterdir()) == []
    assert client.get(f"/runs/{run_id}/artifacts").json() == []
    assert not (data_dir / "artifacts" / "sha256").exists()


def test_a_corrupt_blob_is_never_delivered_whole(server: tuple[httpx.Client, Path]) -> None:
    client, data_dir = server
    run_id = new_run(client)
    data = os.urandom(3 * 1024 * 1024)
    digest = client.put(f"/runs/{run_id}/artifacts/w.bin", content=data).json()["digest"]
    blob = Path(FsspecBlobStore(str(data_dir / "artifacts")).blob_path(digest))
    blob.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))  # one bit flipped at the very end
    with client.stream("GET", f"/runs/{run_id}/artifacts/w.bin") as response:
        assert response.headers["x-plinth-digest"] == f"sha256:{digest}"
        with pytest.raises(httpx.RemoteProtocolError):  # short of its Content-Length
            for _chunk in response.iter_bytes():
                pass
    rest = RestRunArtifactStore(HttpClient(str(client.base_url).removesuffix("/api/v1/")))
    with pytest.raises(Unavailable):
        b"".join(rest.download(run_id, "w.bin"))


@pytest.mark.e2e
def test_a_real_server_streams_big_files_in_flat_memory(tmp_path: Path) -> None:
    size = 128 * 1024 * 1024
    source = tmp_path / "big.bin"
    with open(source, "wb") as out:
        for _ in range(size // (8 * 1024 * 1024)):
            out.write(os.urandom(8 * 1024 * 1024))
    (tmp_path / "server").mkdir()
    with plinth_process(tmp_path / "server") as (url, process):
        http = HttpClient(url, timeout=120)
        run_id = str(http.post("/runs", json={})["id"])
        server = psutil.Process(process.pid)
        before = server.memory_info().rss
        peak = before
        for threshold in (2**62, 64 * 1024 * 1024):  # one streamed PUT, then in parts
            store = RestRunArtifactStore(http, multipart_threshold=threshold)
            with open(source, "rb") as handle:
                store.upload(run_id, f"big{threshold}.bin", handle)
            peak = max(peak, server.memory_info().rss)
        hasher = hashlib.sha256()
        for chunk in RestRunArtifactStore(http).download(run_id, f"big{2**62}.bin"):
            hasher.update(chunk)
            peak = max(peak, server.memory_info().rss)
        http.close()
    assert hasher.hexdigest() == hashlib.sha256(source.read_bytes()).hexdigest()
    assert peak - before < 64 * 1024 * 1024, f"server grew by {(peak - before) >> 20} MiB"


@pytest.mark.e2e
def test_a_real_server_on_s3(tmp_path: Path, moto_s3: MotoS3) -> None:
    env = {
        **CREDENTIALS,
        "PLINTH_ARTIFACTS_URL": f"s3://{moto_s3.new_bucket()}/plinth",
        "PLINTH_S3_ENDPOINT_URL": moto_s3.url,
    }
    (tmp_path / "server").mkdir()
    data = os.urandom(300_000)
    with plinth_process(tmp_path / "server", env=env) as (url, _process):
        http = HttpClient(url)
        run_id = str(http.post("/runs", json={})["id"])
        store = RestRunArtifactStore(http, multipart_threshold=100_000, part_size=100_000)
        source = tmp_path / "model.bin"
        source.write_bytes(data)
        with open(source, "rb") as handle:
            info = store.upload(run_id, "model/weights.bin", handle)
        assert info.digest == hashlib.sha256(data).hexdigest()
        assert b"".join(store.download(run_id, "model/weights.bin")) == data
        assert b"".join(store.download_direct(run_id, "model/weights.bin")) == data
        http.close()
    listed = moto_s3.client().list_objects_v2(Bucket=env["PLINTH_ARTIFACTS_URL"][5:].split("/")[0])  # type: ignore[attr-defined]
    keys = [item["Key"] for item in listed.get("Contents", [])]
    assert keys == [f"plinth/sha256/{info.digest[:2]}/{info.digest[2:4]}/{info.digest}"]


class Crash(Exception):
    """The client process dying in the middle of an upload."""


class CrashingFile(io.FileIO):
    """A real file that "crashes" the reader once it gets past ``crash_at`` bytes."""

    def __init__(self, path: Path, crash_at: int | None = None) -> None:
        super().__init__(path, "rb")
        self.crash_at = crash_at
        self.bytes_read = 0

    def read(self, size: int = -1) -> bytes:
        if self.crash_at is not None and self.tell() >= self.crash_at:
            raise Crash
        data = super().read(size)
        self.bytes_read += len(data)
        return data


def test_a_client_that_crashed_resumes_its_upload(
    server: tuple[httpx.Client, Path], tmp_path: Path
) -> None:
    client, _ = server
    url = str(client.base_url).removesuffix("/api/v1/")
    run_id = new_run(client)
    part = 64 * 1024
    source = tmp_path / "checkpoint.pt.tar"
    data = os.urandom(8 * part + 99)
    source.write_bytes(data)
    notes = tmp_path / "notes"

    def store() -> RestRunArtifactStore:
        http = HttpClient(url, retry_seconds=1)
        return RestRunArtifactStore(
            http, multipart_threshold=part, part_size=part, resume_dir=notes
        )

    with CrashingFile(source, crash_at=3 * part) as handle, pytest.raises(Crash):
        store().upload(run_id, "ckpt/model.tar", handle)
    assert client.get(f"/runs/{run_id}/artifacts").json() == []
    assert len(list(notes.iterdir())) == 1
    with CrashingFile(source) as handle:  # the next process uploads the same file again
        info = store().upload(run_id, "ckpt/model.tar", handle)
        assert handle.bytes_read == len(data) - 3 * part  # only the parts the server lacked
    assert info.digest == hashlib.sha256(data).hexdigest()
    assert list(notes.iterdir()) == []
    downloaded = client.get(f"/runs/{run_id}/artifacts/ckpt/model.tar").content
    assert downloaded == data
