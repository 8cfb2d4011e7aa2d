"""Where the parts of resumable uploads wait: ``<root>/uploads/<id>/``, which garbage
collection never lists. A part is a file of its own (``00003.<etag>``, written whole or not
at all), or, on a local disk when parts arrive in order, a region of a chain file
(``chain.<token>``) that the parts are appended to. Completing an upload whose parts were
all carried (``carry``) is then a hard link: no byte is read, hashed or copied again."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, BinaryIO

from plinth.artifacts.carry import Carried, RunningDigests
from plinth.artifacts.hashing import CHUNK_SIZE, copy_hashing
from plinth.artifacts.store import StagedBlob, StoredPart
from plinth.errors import InvalidArgument

if TYPE_CHECKING:
    from plinth.artifacts.fsspec_backend import FsspecBlobStore

S3_MIN_PART = 5 * 1024 * 1024
S3_MAX_PART = 5 * 1024**3
_UPLOAD_ID = re.compile(r"^[0-9a-f]{32}$")


class UploadArea:
    """The resumable-upload half of ``FsspecBlobStore``."""

    def __init__(self, store: FsspecBlobStore) -> None:
        self.store = store
        self.carries = RunningDigests()

    def directory(self, upload_id: str) -> str:
        if not _UPLOAD_ID.match(upload_id):
            raise InvalidArgument.for_field("upload_id", "must be 32 lower-case hex characters")
        return f"{self.store.root}/uploads/{upload_id}"

    def _own_path(self, upload_id: str, part: StoredPart) -> str:
        return f"{self.directory(upload_id)}/{part.number:05d}.{part.etag}"

    def _chain_path(self, upload_id: str, chain: str) -> str:
        return f"{self.directory(upload_id)}/chain.{chain}"

    def write_part(self, upload_id: str, number: int, source: BinaryIO) -> StoredPart:
        directory = self.directory(upload_id)
        etag = uuid.uuid4().hex
        step = self.carries.begin(upload_id, number, chains=self.store.local)
        hasher = step.hasher if step is not None else None
        part: StoredPart | None = None
        try:
            if step is not None and step.chain is not None:
                path = self.store.guard(self._chain_path(upload_id, step.chain))
                size = _append(path, step.offset, source, hasher)
                part = StoredPart(number, size, etag, step.chain, step.offset)
            else:
                size = self.store.write_file(f"{directory}/{number:05d}.{etag}", source, hasher)
                part = StoredPart(number, size, etag)
        finally:
            if step is not None:
                self.carries.finish(upload_id, step, part)
        return part

    def assemble(self, upload_id: str, parts: Sequence[StoredPart]) -> StagedBlob:
        temporary = self.store.new_temporary()
        carried = self.carries.take(upload_id, parts)
        if carried is not None and self._join_without_copying(upload_id, parts, carried, temporary):
            return StagedBlob(temporary, carried.digest, carried.size)
        hasher = hashlib.sha256()
        size = 0
        try:
            with self.store.open_write(temporary) as out:
                for part in parts:
                    with self._open_part(upload_id, part) as source:
                        size += copy_hashing(source, out, hasher)
        except BaseException:
            self.store.remove_files(temporary)
            raise
        return StagedBlob(temporary, hasher.hexdigest(), size)

    def _join_without_copying(
        self, upload_id: str, parts: Sequence[StoredPart], carried: Carried, target: str
    ) -> bool:
        """Join carried parts without passing their bytes through Python: a hard link to
        their chain file or a kernel copy on a local disk, a server-side multipart copy on
        S3. False when the backend cannot."""
        if self.store.local:
            chain = carried.chain
            if chain is not None and all(part.chain == chain for part in parts):
                path = self._chain_path(upload_id, chain)
                if os.path.getsize(path) == carried.size:  # nothing but the parts in it
                    os.makedirs(os.path.dirname(target), exist_ok=True)
                    os.link(path, target)
                    os.utime(target)  # young again: gc sweeps temporaries by their age
                    return True
            if any(part.chain is not None for part in parts):
                return False
            _concatenate_local([self._own_path(upload_id, part) for part in parts], target)
            return True
        keys = [self._own_path(upload_id, part) for part in parts]
        sizes = [part.size for part in parts]
        if len(keys) == 1:
            self.store.fs.copy(keys[0], target)
            return True
        mergeable = all(S3_MIN_PART <= s <= S3_MAX_PART for s in sizes[:-1])
        if hasattr(self.store.fs, "merge") and mergeable and sizes[-1] <= S3_MAX_PART:
            self.store.fs.merge(target, keys)
            return True
        return False

    def _open_part(self, upload_id: str, part: StoredPart) -> BinaryIO:
        if part.chain is None:
            return self.store.open_read(self._own_path(upload_id, part))
        source = self.store.open_read(self._chain_path(upload_id, part.chain))
        source.seek(part.offset)
        return _Region(source, part.size)  # type: ignore[return-value]

    def discard_part(self, upload_id: str, part: StoredPart) -> None:
        if part.chain is None:  # a chain's regions go with the whole upload
            self.store.remove_files(self._own_path(upload_id, part))

    def discard_upload(self, upload_id: str) -> None:
        self.carries.forget(upload_id)
        directory = self.directory(upload_id)
        if self.store.local:
            shutil.rmtree(directory, ignore_errors=True)
        elif self.store.fs.exists(directory):
            self.store.fs.rm(directory, recursive=True)


class _Region:
    """``size`` bytes of an open file from where it stands."""

    def __init__(self, source: BinaryIO, size: int) -> None:
        self._source = source
        self._left = size

    def read(self, size: int = -1) -> bytes:
        wanted = self._left if size < 0 else min(size, self._left)
        data = self._source.read(wanted) if wanted else b""
        self._left -= len(data)
        return data

    def __enter__(self) -> _Region:
        return self

    def __exit__(self, *_exc: object) -> None:
        self._source.close()


def _append(path: str, offset: int, source: BinaryIO, hasher: Any | None) -> int:
    """Write ``source`` into the chain file at ``offset`` (its carried length); a failed
    write is cut off again, so the file never holds more than whole parts."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        with os.fdopen(descriptor, "wb") as out:
            out.seek(offset)
            return copy_hashing(source, out, hasher)
    except BaseException:
        os.truncate(path, offset)
        raise


def _concatenate_local(keys: list[str], target: str) -> None:
    os.makedirs(os.path.dirname(target), exist_ok=True)
    try:
        with open(target, "wb") as out:
            for key in keys:
                with open(key, "rb") as source:
                    remaining = os.fstat(source.fileno()).st_size
                    while remaining > 0:
                        try:
                            copied = os.copy_file_range(source.fileno(), out.fileno(), remaining)
                        except OSError:  # not across these filesystems: copy in user space
                            shutil.copyfileobj(source, out, CHUNK_SIZE)
                            out.flush()  # before the next part's kernel copy
                            break
                        if copied == 0:
                            break
                        remaining -= copied
    except BaseException:
        if os.path.exists(target):
            os.unlink(target)
        raise
