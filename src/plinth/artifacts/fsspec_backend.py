"""Blobs on any fsspec filesystem: ``<root>/sha256/ab/cd/<digest>``, written via a temporary
file and a rename so a reader never sees half a blob."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any, BinaryIO

import fsspec

from plinth.errors import NotFound

CHUNK_SIZE = 1024 * 1024


class FsspecBlobStore:
    """Implements ``BlobStore`` on an fsspec URL (a local folder by default)."""

    def __init__(self, url: str, **storage_options: Any) -> None:
        self.fs, self.root = fsspec.core.url_to_fs(url, **storage_options)
        self.root = self.root.rstrip("/")
        self.fs.makedirs(f"{self.root}/tmp", exist_ok=True)

    def blob_path(self, digest: str) -> str:
        return f"{self.root}/sha256/{digest[:2]}/{digest[2:4]}/{digest}"

    def put(self, source: BinaryIO) -> tuple[str, int]:
        temporary = f"{self.root}/tmp/{uuid.uuid4().hex}"
        hasher = hashlib.sha256()
        size = 0
        try:
            with self.fs.open(temporary, "wb") as out:
                while chunk := source.read(CHUNK_SIZE):
                    hasher.update(chunk)
                    out.write(chunk)
                    size += len(chunk)
            digest = hasher.hexdigest()
            final = self.blob_path(digest)
            if self.fs.exists(final):
                self.fs.rm(temporary)
            else:
                self.fs.makedirs(final.rsplit("/", 1)[0], exist_ok=True)
                self.fs.mv(temporary, final)
        except BaseException:
            if self.fs.exists(temporary):
                self.fs.rm(temporary)
            raise
        return digest, size

    def open(self, digest: str) -> BinaryIO:
        path = self.blob_path(digest)
        if not self.fs.exists(path):
            raise NotFound(f"blob sha256:{digest} does not exist")
        return self.fs.open(path, "rb")  # type: ignore[no-any-return]

    def exists(self, digest: str) -> bool:
        return bool(self.fs.exists(self.blob_path(digest)))
