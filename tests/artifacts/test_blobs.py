"""The blob store contract, one body per behaviour, on a local folder and on S3 (moto)."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import httpx
import pytest

from plinth.artifacts.fsspec_backend import FsspecBlobStore
from plinth.artifacts.store import StoredPart
from plinth.artifacts.upload_area import S3_MIN_PART
from plinth.errors import InvalidArgument, NotFound, PermissionDenied


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Exploding(io.RawIOBase):
    """A source that fails half way, like a client that goes away mid-upload."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.sent = False

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if self.sent:
            raise ConnectionResetError("gone")
        self.sent = True
        return self.data


def test_put_is_content_addressed_and_deduplicated(blobs: FsspecBlobStore) -> None:
    data = os.urandom(3 * 1024 * 1024 + 17)
    digest, size = blobs.put(io.BytesIO(data))
    assert (digest, size) == (sha(data), len(data))
    assert blobs.put(io.BytesIO(data)) == (digest, size)
    assert [stat.digest for stat in blobs.list_blobs()] == [digest]
    with blobs.open(digest) as source:
        assert source.read() == data
    assert blobs.exists(digest)
    assert blobs.blob_path(digest).endswith(f"sha256/{digest[:2]}/{digest[2:4]}/{digest}")


def test_empty_blob(blobs: FsspecBlobStore) -> None:
    digest, size = blobs.put(io.BytesIO(b""))
    assert (digest, size) == (sha(b""), 0)
    with blobs.open(digest) as source:
        assert source.read() == b""


def test_a_failed_write_leaves_nothing(blobs: FsspecBlobStore) -> None:
    with pytest.raises(ConnectionResetError):
        blobs.put(Exploding(b"x" * 1000))
    assert list(blobs.list_blobs()) == []
    assert blobs.sweep_temporary(older_than_ms=2**62) == 0  # no temporary left behind


def test_staged_bytes_are_invisible_until_published(blobs: FsspecBlobStore) -> None:
    staged = blobs.stage(io.BytesIO(b"staged"))
    assert not blobs.exists(staged.digest)
    with blobs.open_staged(staged) as source:
        assert source.read() == b"staged"
    blobs.publish(staged)
    assert blobs.exists(staged.digest)
    again = blobs.stage(io.BytesIO(b"staged"))
    blobs.publish(again)  # already there: the copy is dropped
    assert blobs.sweep_temporary(older_than_ms=2**62) == 0
    discarded = blobs.stage(io.BytesIO(b"never"))
    blobs.discard(discarded)
    assert not blobs.exists(discarded.digest)


def test_missing_and_malformed_digests(blobs: FsspecBlobStore) -> None:
    with pytest.raises(NotFound):
        blobs.open("0" * 64)
    assert not blobs.exists("0" * 64)
    for bad in ("../../etc/passwd", "A" * 64, "0" * 63, "/" + "0" * 63):
        with pytest.raises(InvalidArgument):
            blobs.open(bad)


def test_delete_and_listing(blobs: FsspecBlobStore) -> None:
    digests = [blobs.put(io.BytesIO(f"blob {i}".encode()))[0] for i in range(3)]
    listed = {stat.digest: stat for stat in blobs.list_blobs()}
    assert set(listed) == set(digests)
    assert all(stat.size == 6 and stat.modified_ms > 0 for stat in listed.values())
    blobs.delete([*digests[:2], "f" * 64])  # an absent one is ignored
    assert [stat.digest for stat in blobs.list_blobs()] == [digests[2]]


def test_parts_in_order_are_hashed_as_they_arrive(blobs: FsspecBlobStore) -> None:
    upload_id = "a" * 32
    pieces = [os.urandom(1000), os.urandom(2000), os.urandom(10)]
    parts = [blobs.write_part(upload_id, n, io.BytesIO(p)) for n, p in enumerate(pieces, 1)]
    assert blobs.uploads.carries.take(upload_id, parts) is not None  # carried ...
    parts = [blobs.write_part(upload_id, n, io.BytesIO(p)) for n, p in enumerate(pieces, 1)]
    staged = blobs.assemble(upload_id, parts)  # ... and used
    assert (staged.digest, staged.size) == (sha(b"".join(pieces)), 3010)
    blobs.publish(staged)
    with blobs.open(staged.digest) as source:
        assert source.read() == b"".join(pieces)
    blobs.discard_upload(upload_id)


def test_parts_out_of_order_or_replaced_are_hashed_at_the_end(blobs: FsspecBlobStore) -> None:
    upload_id = "b" * 32
    second = blobs.write_part(upload_id, 2, io.BytesIO(b"world"))
    first = blobs.write_part(upload_id, 1, io.BytesIO(b"hello "))
    staged = blobs.assemble(upload_id, [first, second])
    assert staged.digest == sha(b"hello world")
    blobs.discard(staged)
    # part 1 written again after 2 was carried: the carry no longer matches, nothing breaks
    first = blobs.write_part(upload_id, 1, io.BytesIO(b"HELLO "))
    second = blobs.write_part(upload_id, 2, io.BytesIO(b"world"))
    stale = blobs.write_part(upload_id, 1, io.BytesIO(b"other "))
    blobs.discard_part(upload_id, first)
    staged = blobs.assemble(upload_id, [stale, second])
    assert staged.digest == sha(b"other world")
    blobs.discard(staged)
    blobs.discard_upload(upload_id)
    with pytest.raises(NotFound):
        blobs.assemble(upload_id, [StoredPart(1, 6, "0" * 32)])


def test_big_parts_join_without_passing_through_python(blobs: FsspecBlobStore) -> None:
    """On S3 parts of 5 MiB and more are joined by a server-side multipart copy."""
    upload_id = "c" * 32
    pieces = [os.urandom(S3_MIN_PART), os.urandom(S3_MIN_PART), os.urandom(123)]
    parts = [blobs.write_part(upload_id, n, io.BytesIO(p)) for n, p in enumerate(pieces, 1)]
    staged = blobs.assemble(upload_id, parts)
    assert staged.digest == sha(b"".join(pieces))
    with blobs.open_staged(staged) as source:
        assert hashlib.sha256(source.read()).hexdigest() == staged.digest
    blobs.discard(staged)
    blobs.discard_upload(upload_id)


def test_upload_ids_cannot_name_other_places(blobs: FsspecBlobStore) -> None:
    for bad in ("../sha256", "a" * 31, "A" * 32, "a" * 31 + "/"):
        with pytest.raises(InvalidArgument):
            blobs.write_part(bad, 1, io.BytesIO(b"x"))


def test_links_reach_the_blob_directly_on_s3_only(blobs: FsspecBlobStore) -> None:
    digest, _ = blobs.put(io.BytesIO(b"direct"))
    url = blobs.link(digest, 60)
    if blobs.local:
        assert url is None
        return
    assert url is not None
    response = httpx.get(url)
    assert response.status_code == 200
    assert response.content == b"direct"


def test_a_symlink_out_of_the_root_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    blobs = FsspecBlobStore(str(tmp_path / "root"))
    digest, _ = blobs.put(io.BytesIO(b"inside"))
    folder = Path(blobs.blob_path(digest)).parent
    for item in folder.iterdir():
        (outside / item.name).write_bytes(b"planted")
        item.unlink()
    folder.rmdir()
    folder.symlink_to(outside)
    with pytest.raises(PermissionDenied):
        blobs.open(digest)
    with pytest.raises(PermissionDenied):
        blobs.put(io.BytesIO(b"inside"))
    with pytest.raises(PermissionDenied):
        blobs.delete([digest])
    assert (outside / digest).read_bytes() == b"planted"


def test_a_failed_part_is_cut_off_and_sent_again(blobs: FsspecBlobStore) -> None:
    upload_id = "d" * 32
    first = blobs.write_part(upload_id, 1, io.BytesIO(b"first "))
    with pytest.raises(ConnectionResetError):
        blobs.write_part(upload_id, 2, Exploding(b"half of the sec"))
    second = blobs.write_part(upload_id, 2, io.BytesIO(b"second"))
    staged = blobs.assemble(upload_id, [first, second])
    assert (staged.digest, staged.size) == (sha(b"first second"), 12)
    with blobs.open_staged(staged) as source:
        assert source.read() == b"first second"
    if blobs.local:  # parts that arrived in order were appended to one file: a link, no copy
        assert os.stat(staged.key).st_nlink == 2
    blobs.publish(staged)
    blobs.discard_upload(upload_id)
    with blobs.open(staged.digest) as source:
        assert source.read() == b"first second"


def test_a_direct_upload_rewritten_after_its_commit_began_cannot_change_the_blob(
    blobs: FsspecBlobStore,
) -> None:
    """The upload link may still PUT to its key after the server took the bytes to hash:
    what gets published is what was hashed and scanned, never the newer bytes."""
    token = "d" * 32
    direct = f"{blobs.root}/tmp/direct-{token}"
    blobs.fs.pipe(direct, b"what the client committed")
    staged = blobs.stage_uploaded(token)
    blobs.fs.pipe(direct, b"EVIL bytes put through the link meanwhile")
    blobs.publish(staged)
    expected = hashlib.sha256(b"what the client committed").hexdigest()
    assert staged.digest == expected
    with blobs.open(expected) as stored:
        assert stored.read() == b"what the client committed"
    with pytest.raises(NotFound):
        blobs.stage_uploaded("e" * 32)  # nothing arrived for this token


def test_an_upload_joined_from_old_parts_is_not_swept_before_it_is_published(
    blobs: FsspecBlobStore,
) -> None:
    """Parts that arrived days ago, joined now: the staged file is young, so the sweep of
    old temporaries (gc) leaves it to be published."""
    import time

    upload_id = "c" * 32
    pieces = [b"sent ", b"long ago"]
    parts = [blobs.write_part(upload_id, n, io.BytesIO(p)) for n, p in enumerate(pieces, 1)]
    if blobs.local:
        two_days_ago = time.time() - 2 * 24 * 3600
        for written in Path(blobs.uploads.directory(upload_id)).iterdir():
            os.utime(written, (two_days_ago, two_days_ago))
    staged = blobs.assemble(upload_id, parts)
    blobs.sweep_temporary(int(time.time() * 1000) - 24 * 3600 * 1000)
    blobs.publish(staged)
    with blobs.open(staged.digest) as source:
        assert source.read() == b"sent long ago"
    blobs.discard_upload(upload_id)
