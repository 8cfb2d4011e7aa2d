"""Garbage collection: unreferenced old blobs go; referenced, young, pinned and in-flight
ones stay, also while uploads of the same content race the collector."""

from __future__ import annotations

import hashlib
import io
import os
import threading
import time

import pytest
from sqlalchemy import update

from plinth.artifacts.gc import collect_garbage
from plinth.artifacts.references import pin, referencing_columns, unpin
from plinth.artifacts.sql import SqlRunArtifactStore
from plinth.db.tables.artifacts import artifact_uploads
from tests.artifacts.conftest import ArtifactEnv

SQL_ENVS = ["sqlite-local", "sqlite-s3", "postgres-local"]


def sql_store(env: ArtifactEnv) -> SqlRunArtifactStore:
    store = env.platform.artifacts
    assert isinstance(store, SqlRunArtifactStore)
    return store


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("env", SQL_ENVS, indirect=True)
def test_only_unreferenced_old_blobs_are_removed(env: ArtifactEnv) -> None:
    store = sql_store(env)
    run_id = env.new_run()
    store.upload(run_id, "kept.txt", io.BytesIO(b"kept"))
    store.upload(run_id, "replaced.txt", io.BytesIO(b"old version"))
    store.upload(run_id, "replaced.txt", io.BytesIO(b"new version"))
    orphan, _ = env.blobs.put(io.BytesIO(b"nobody's"))
    assert len(env.blob_digests()) == 4

    young = collect_garbage(store.database, env.blobs)  # default grace: an hour
    assert (young.blobs_seen, young.kept_recent, young.blobs_removed) == (4, 4, 0)

    dry = collect_garbage(store.database, env.blobs, grace_seconds=0, dry_run=True)
    assert (dry.blobs_removed, dry.kept_referenced, dry.dry_run) == (2, 2, True)
    assert dry.bytes_removed == len(b"old version") + len(b"nobody's")
    assert len(env.blob_digests()) == 4

    report = collect_garbage(store.database, env.blobs, grace_seconds=0)
    assert (report.blobs_removed, report.kept_referenced) == (2, 2)
    assert env.blob_digests() == sorted([sha(b"kept"), sha(b"new version")])
    assert orphan not in env.blob_digests()
    assert b"".join(store.download(run_id, "replaced.txt")) == b"new version"


@pytest.mark.parametrize("env", SQL_ENVS, indirect=True)
def test_pinned_and_in_flight_blobs_are_never_removed(env: ArtifactEnv) -> None:
    store = sql_store(env)
    digest, _ = env.blobs.put(io.BytesIO(b"about to be referenced"))
    token = pin(store.database, digest)
    in_flight = env.blobs.stage(io.BytesIO(b"still arriving"))
    upload = store.start_upload(env.new_run(), "big.bin")
    store.upload_part(upload.id, 1, io.BytesIO(b"part one"))
    collect_garbage(store.database, env.blobs, grace_seconds=0)
    assert env.blob_digests() == [digest]
    with env.blobs.open_staged(in_flight) as source:
        assert source.read() == b"still arriving"
    assert store.complete_upload(upload.id).digest == sha(b"part one")
    with store.database.write() as conn:
        unpin(conn, token)
    collect_garbage(store.database, env.blobs, grace_seconds=0)
    assert env.blob_digests() == [sha(b"part one")]


@pytest.mark.parametrize("env", SQL_ENVS, indirect=True)
def test_abandoned_uploads_expire(env: ArtifactEnv) -> None:
    store = sql_store(env)
    upload = store.start_upload(env.new_run(), "abandoned.bin")
    store.upload_part(upload.id, 1, io.BytesIO(b"x" * 100))
    with store.database.write() as conn:
        conn.execute(update(artifact_uploads).values(updated_at=0))
    report = collect_garbage(store.database, env.blobs)
    assert report.uploads_expired == 1
    with pytest.raises(Exception, match="does not exist"):
        store.get_upload(upload.id)


@pytest.mark.parametrize("env", ["sqlite-local", "postgres-local"], indirect=True)
def test_uploads_racing_the_collector_never_lose_a_blob(env: ArtifactEnv) -> None:
    """The same content is uploaded again and again while it is, between uploads, an old
    unreferenced blob that the collector (grace 0) wants to delete."""
    store = sql_store(env)
    data = os.urandom(50_000)
    run_id = env.new_run()
    stop = threading.Event()
    failures: list[BaseException] = []

    def collector() -> None:
        try:
            while not stop.is_set():
                collect_garbage(store.database, env.blobs, grace_seconds=0)
        except BaseException as exc:
            failures.append(exc)

    thread = threading.Thread(target=collector)
    thread.start()
    try:
        deadline = time.monotonic() + 2.0
        uploads = 0
        while time.monotonic() < deadline:
            path = f"file{uploads}.bin"
            store.upload(run_id, path, io.BytesIO(data))
            assert b"".join(store.download(run_id, path)) == data  # still there, intact
            uploads += 1
            with store.database.write() as conn:  # unreference it again for the collector
                conn.exec_driver_sql("DELETE FROM run_artifacts")
    finally:
        stop.set()
        thread.join()
    assert failures == []
    assert uploads > 5


def test_every_blob_reference_is_known() -> None:
    names = {f"{column.table.name}.{column.name}" for column in referencing_columns()}
    assert {"run_artifacts.digest", "blob_pins.digest"} <= names
