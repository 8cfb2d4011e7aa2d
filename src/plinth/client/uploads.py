"""Sending big files as resumable uploads: fixed-size parts read straight from the file, each
retried on its own. A note in the resume folder lets a later attempt (another process,
after a crash) pick the same upload up and send only the parts the server lacks."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import orjson

from plinth.entities.artifacts import MAX_UPLOAD_PARTS, ArtifactInfo, Upload
from plinth.errors import InvalidArgument, PlinthError

if TYPE_CHECKING:
    from plinth.client.artifacts import RestRunArtifactStore

CHUNK_SIZE = 1024 * 1024


def remaining_size(source: BinaryIO) -> int | None:
    """Bytes from the current position to the end, or None for a stream that cannot seek."""
    try:
        if not source.seekable():
            return None
        position = source.tell()
        end = source.seek(0, os.SEEK_END)
        source.seek(position)
    except (AttributeError, OSError, ValueError):
        return None
    return end - position


def send_file(
    source: BinaryIO, start: int | None = None, size: int | None = None
) -> Iterator[bytes]:
    """``size`` bytes of ``source`` from ``start`` (to the end when None), in chunks."""
    if start is not None:
        source.seek(start)
    left = size
    while left is None or left > 0:
        chunk = source.read(CHUNK_SIZE if left is None else min(CHUNK_SIZE, left))
        if not chunk:
            if left:
                raise InvalidArgument.for_field("source", "the file shrank while being uploaded")
            return
        if left is not None:
            left -= len(chunk)
        yield chunk


class PartedUpload:
    """One big file on its way up: ``run()`` sends the parts the server lacks, completes."""

    def __init__(
        self, store: RestRunArtifactStore, run_id: str, path: str, source: BinaryIO, size: int
    ) -> None:
        self.store = store
        self.run_id = run_id
        self.path = path
        self.source = source
        self.size = size
        self.start = source.tell()
        self.part_size = max(store.part_size, -(-size // MAX_UPLOAD_PARTS))
        self.note = _note_path(store.resume_dir, run_id, path, source, size, self.start)

    def run(self) -> ArtifactInfo:
        resumed = self._resume()
        upload = resumed or self.store.start_upload(self.run_id, self.path, self.size)
        self._write_note(upload.id)
        received = {part.number: part.size for part in upload.parts}
        if upload.state == "open":
            for number in range(1, max(1, -(-self.size // self.part_size)) + 1):
                offset = (number - 1) * self.part_size
                length = min(self.part_size, self.size - offset)
                if received.get(number) == length:
                    continue  # the server has it from an earlier attempt
                self.store.send(
                    "PUT",
                    f"/uploads/{upload.id}/parts/{number}",
                    partial(send_file, self.source, self.start + offset, length),
                    size=length,
                )
        info = self.store.complete_upload(upload.id)
        if self.note is not None:
            self.note.unlink(missing_ok=True)
        return info

    def _resume(self) -> Upload | None:
        """The upload an earlier attempt at this same file left open, if any."""
        if self.note is None or not self.note.exists():
            return None
        try:
            noted = orjson.loads(self.note.read_bytes())
            upload = self.store.get_upload(str(noted["upload_id"]))
            part_size = int(noted["part_size"])
        except (PlinthError, orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            return None
        same = (upload.run_id, upload.path, upload.size) == (self.run_id, self.path, self.size)
        if not same:
            return None
        self.part_size = part_size
        return upload

    def _write_note(self, upload_id: str) -> None:
        if self.note is None:
            return
        self.note.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.note.with_suffix(".tmp")
        temporary.write_bytes(orjson.dumps({"upload_id": upload_id, "part_size": self.part_size}))
        temporary.replace(self.note)


def _note_path(
    resume_dir: Path | None, run_id: str, path: str, source: BinaryIO, size: int, start: int
) -> Path | None:
    """Where the upload of this file (this run, path, file, size, mtime) is noted."""
    name = getattr(source, "name", None)  # open(Path(...)) keeps the Path as its name
    if resume_dir is None or not isinstance(name, str | os.PathLike):
        return None
    name = os.fspath(name)
    try:
        stat = os.stat(name)
    except OSError:
        return None
    identity = f"{run_id}\0{path}\0{os.path.realpath(name)}\0{size}\0{stat.st_mtime_ns}\0{start}"
    return resume_dir / f"{hashlib.sha256(identity.encode()).hexdigest()[:32]}.json"
