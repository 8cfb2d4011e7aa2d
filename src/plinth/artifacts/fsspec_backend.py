"""Blobs on any fsspec filesystem: ``<root>/sha256/ab/cd/<digest>``, written to
``<root>/tmp/`` first and moved into place once hashed (a rename on a local disk, a copy on
S3, whose objects appear whole), so a reader never sees half a blob. Parts of resumable
uploads live under ``<root>/uploads/<id>/``, which garbage collection never lists."""

from __future__ import annotations

import hashlib
import os
import re
import uuid
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any, BinaryIO

import fsspec
from fsspec.implementations.local import LocalFileSystem

from plinth.artifacts.hashing import copy_hashing
from plinth.artifacts.integrity import check_digest
from plinth.artifacts.store import BlobStat, StagedBlob, StoredPart
from plinth.artifacts.upload_area import UploadArea
from plinth.entities.common import now_ms
from plinth.errors import InvalidArgument, NotFound, PermissionDenied

_TOKEN = re.compile(r"^[0-9a-f]{32}$")

REMOTE_BLOCK_SIZE = 16 * 1024 * 1024
"""Read-ahead and write buffer of remote files (S3's parts are at least 5 MiB)."""


class FsspecBlobStore:
    """Implements ``BlobStore`` on an fsspec URL (a local folder by default)."""

    def __init__(self, url: str, **storage_options: Any) -> None:
        self.fs, root = fsspec.core.url_to_fs(url, **storage_options)
        self.local = isinstance(self.fs, LocalFileSystem)
        self.root = root.rstrip("/")
        if self.local:  # object stores have no folders (and the bucket must exist)
            os.makedirs(f"{self.root}/tmp", exist_ok=True)
            self._real_root = os.path.realpath(self.root)
        self.uploads = UploadArea(self)

    def __repr__(self) -> str:
        return f"FsspecBlobStore({self.fs.protocol!r}, {self.root!r})"

    # -- keys ------------------------------------------------------------------------------

    def blob_path(self, digest: str) -> str:
        check_digest(digest)
        return f"{self.root}/sha256/{digest[:2]}/{digest[2:4]}/{digest}"

    def guard(self, path: str) -> str:
        """On a local disk, refuse a path whose folders lead (by symlink) out of the root."""
        if self.local:
            real = os.path.realpath(os.path.dirname(path))
            if real != self._real_root and not real.startswith(self._real_root + os.sep):
                raise PermissionDenied(f"artifact storage path {path!r} leads outside the root")
        return path

    # -- writing ---------------------------------------------------------------------------

    def open_write(self, path: str) -> BinaryIO:
        if self.local:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            return open(self.guard(path), "wb")
        return self.fs.open(path, "wb", block_size=REMOTE_BLOCK_SIZE)  # type: ignore[no-any-return]

    def remove_files(self, *paths: str) -> None:
        for path in paths:
            try:
                if self.local:
                    os.unlink(path)
                else:
                    self.fs.rm(path)
            except FileNotFoundError:
                pass

    def write_file(self, path: str, source: BinaryIO, hasher: Any | None) -> int:
        """Copy ``source`` to ``path``, feeding ``hasher``; a failed write leaves nothing."""
        try:
            with self.open_write(path) as out:
                return copy_hashing(source, out, hasher)
        except BaseException:
            self.remove_files(path)
            raise

    def new_temporary(self) -> str:
        return f"{self.root}/tmp/{uuid.uuid4().hex}"

    def stage(self, source: BinaryIO) -> StagedBlob:
        temporary = self.new_temporary()
        hasher = hashlib.sha256()
        size = self.write_file(temporary, source, hasher)
        return StagedBlob(temporary, hasher.hexdigest(), size)

    def open_staged(self, staged: StagedBlob) -> BinaryIO:
        return self.open_read(staged.key)

    def publish(self, staged: StagedBlob) -> None:
        final = self.blob_path(staged.digest)
        if self.local:
            os.makedirs(os.path.dirname(final), exist_ok=True)
            self.guard(final)
            if os.path.exists(final):
                os.unlink(staged.key)
                os.utime(final)  # fresh again: a young blob is never collected
            else:
                os.replace(staged.key, final)
            return
        if self.fs.exists(final):
            self.fs.rm(staged.key)
        else:
            self.fs.mv(staged.key, final)

    def discard(self, staged: StagedBlob) -> None:
        self.remove_files(staged.key)

    def put(self, source: BinaryIO) -> tuple[str, int]:
        staged = self.stage(source)
        try:
            self.publish(staged)
        except BaseException:
            self.discard(staged)
            raise
        return staged.digest, staged.size

    # -- reading ---------------------------------------------------------------------------

    def open_read(self, path: str) -> BinaryIO:
        try:
            if self.local:
                return open(self.guard(path), "rb")
            return self.fs.open(path, "rb", block_size=REMOTE_BLOCK_SIZE)  # type: ignore[no-any-return]
        except FileNotFoundError:
            raise NotFound(f"{path.rsplit('/', 1)[-1]} is not in artifact storage") from None

    def open(self, digest: str) -> BinaryIO:
        try:
            return self.open_read(self.blob_path(digest))
        except NotFound:
            raise NotFound(f"blob sha256:{digest} does not exist") from None

    def exists(self, digest: str) -> bool:
        return bool(self.fs.exists(self.blob_path(digest)))

    def link(self, digest: str, expires_seconds: int) -> str | None:
        if self.local:
            return None
        try:
            return str(self.fs.sign(self.blob_path(digest), expiration=expires_seconds))
        except NotImplementedError:
            return None

    def upload_link(self, token: str, expires_seconds: int) -> str | None:
        if self.local:
            return None
        try:
            url = self.fs.url(
                self._direct_path(token), expires=expires_seconds, client_method="put_object"
            )
        except (AttributeError, NotImplementedError, TypeError):
            return None
        return str(url)

    def stage_uploaded(self, token: str) -> StagedBlob:
        """Take a direct upload's bytes into a key of our own first, then hash them: the
        upload link can still write its key until it expires, but never this one, so the
        bytes hashed (and scanned) are the bytes published."""
        key = self.new_temporary()
        try:
            self.fs.mv(self._direct_path(token), key)
        except FileNotFoundError:
            raise NotFound(f"direct upload {token} is not in artifact storage") from None
        hasher = hashlib.sha256()
        size = 0
        with self.open_read(key) as source:
            while chunk := source.read(REMOTE_BLOCK_SIZE):
                hasher.update(chunk)
                size += len(chunk)
        return StagedBlob(key, hasher.hexdigest(), size)

    def _direct_path(self, token: str) -> str:
        if not _TOKEN.match(token):
            raise InvalidArgument.for_field("token", "must be 32 lower-case hex characters")
        return f"{self.root}/tmp/direct-{token}"

    # -- collecting ------------------------------------------------------------------------

    def list_blobs(self) -> Iterator[BlobStat]:
        base = f"{self.root}/sha256"
        if self.local:
            for folder, _dirs, files in os.walk(base):
                for name in files:
                    if len(name) == 64:
                        stat = os.stat(os.path.join(folder, name))
                        yield BlobStat(name, stat.st_size, int(stat.st_mtime * 1000))
            return
        if not self.fs.exists(base):
            return
        for path, info in self.fs.find(base, detail=True).items():
            name = path.rsplit("/", 1)[-1]
            if len(name) == 64:
                yield BlobStat(name, int(info.get("size") or 0), _modified_ms(info))

    def delete(self, digests: Sequence[str]) -> None:
        paths = [self.guard(self.blob_path(digest)) for digest in digests]
        if self.local or len(paths) <= 1:
            self.remove_files(*paths)
        elif paths:
            self.fs.rm(paths)

    def sweep_temporary(self, older_than_ms: int) -> int:
        base = f"{self.root}/tmp"
        if not self.fs.exists(base):
            return 0
        stale = [
            path
            for path, info in self.fs.find(base, detail=True).items()
            if _modified_ms(info) < older_than_ms
        ]
        self.remove_files(*stale)
        return len(stale)

    # -- resumable uploads (``upload_area``) ------------------------------------------------

    def write_part(self, upload_id: str, number: int, source: BinaryIO) -> StoredPart:
        return self.uploads.write_part(upload_id, number, source)

    def assemble(self, upload_id: str, parts: Sequence[StoredPart]) -> StagedBlob:
        return self.uploads.assemble(upload_id, parts)

    def discard_part(self, upload_id: str, part: StoredPart) -> None:
        self.uploads.discard_part(upload_id, part)

    def discard_upload(self, upload_id: str) -> None:
        self.uploads.discard_upload(upload_id)


def _modified_ms(info: dict[str, Any]) -> int:
    """A listing entry's modification time: ``mtime`` locally, ``LastModified`` on S3."""
    for key in ("mtime", "LastModified", "last_modified", "updated", "created"):
        value = info.get(key)
        if isinstance(value, datetime):
            return int(value.timestamp() * 1000)
        if isinstance(value, int | float):
            return int(value * 1000)
        if isinstance(value, str):
            try:
                return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * 1000)
            except ValueError:
                continue
    return now_ms()  # unknown: treat as new, so it is never collected by mistake
