"""``RestRunArtifactStore``: run artifacts streamed to and from the server. A big file goes up
as a resumable upload, part by part, each part retried on its own (``client.uploads``)."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import quote

import httpx
import orjson

from plinth.artifacts.integrity import verified_chunks
from plinth.artifacts.paths import clean_artifact_path
from plinth.client.http import HttpClient, raise_for_problem
from plinth.client.uploads import PartedUpload, remaining_size, send_file
from plinth.entities.artifacts import (
    ArtifactInfo,
    ArtifactLink,
    DirectUpload,
    Upload,
    UploadPart,
)
from plinth.errors import InvalidArgument, NotFound, Unavailable

CHUNK_SIZE = 1024 * 1024
MULTIPART_THRESHOLD = 64 * 1024 * 1024
"""Files larger than this are sent as resumable uploads."""
PART_SIZE = 64 * 1024 * 1024
LINK_TIMEOUT = 60.0
"""Seconds a direct download from object storage may wait between bytes."""
_RETRY_STATUSES = {502, 503, 504}

Body = Callable[[], Iterator[bytes]] | None
"""Makes a request body afresh for each attempt (a stream cannot be sent twice)."""


class RestRunArtifactStore:
    """Implements ``RunArtifactStore`` against a plinth server."""

    def __init__(
        self,
        http: HttpClient,
        *,
        multipart_threshold: int = MULTIPART_THRESHOLD,
        part_size: int = PART_SIZE,
        resume_dir: Path | None = None,
    ) -> None:
        self.http = http
        self.multipart_threshold = multipart_threshold
        self.part_size = part_size
        self.resume_dir = resume_dir
        """Where unfinished big uploads are noted, so uploading the same file again resumes."""

    # -- files -----------------------------------------------------------------------------

    def upload(self, run_id: str, path: str, source: BinaryIO) -> ArtifactInfo:
        path = clean_artifact_path(path)
        size = remaining_size(source)
        if size is not None and size > self.multipart_threshold:
            return PartedUpload(self, run_id, path, source, size).run()
        url = f"/runs/{run_id}/artifacts/{quote(path)}"
        if size is None:  # a pipe: one attempt, streamed as it comes
            return ArtifactInfo.model_validate_json(
                self.send("PUT", url, send_file(source)).content
            )
        start = source.tell()
        response = self.send("PUT", url, lambda: send_file(source, start, size), size=size)
        return ArtifactInfo.model_validate_json(response.content)

    def list(self, run_id: str, prefix: str = "") -> list[ArtifactInfo]:
        items = self.http.get(f"/runs/{run_id}/artifacts", params={"path": prefix})
        return [ArtifactInfo.model_validate(item) for item in items]

    def stat(self, run_id: str, path: str) -> ArtifactInfo:
        path = clean_artifact_path(path)
        found = [info for info in self.list(run_id, path) if info.path == path]
        if not found or found[0].is_dir:
            raise NotFound(f"run {run_id!r} has no artifact {path!r}")
        return found[0]

    def download(self, run_id: str, path: str) -> Iterator[bytes]:
        path = clean_artifact_path(path)
        try:
            with self.http.stream("GET", f"/runs/{run_id}/artifacts/{quote(path)}") as response:
                if response.status_code >= 400:
                    response.read()
                    raise_for_problem(response)
                yield from response.iter_bytes()
        except httpx.TransportError as exc:
            raise Unavailable(
                f"the download of {path!r} was cut short: the connection broke, or the server"
                f" found the stored file corrupt and stopped ({exc})"
            ) from exc

    def link(self, run_id: str, path: str, expires_seconds: int = 900) -> ArtifactLink:
        path = clean_artifact_path(path)
        body = self.http.get(
            f"/runs/{run_id}/artifact-links/{quote(path)}",
            params={"expires_seconds": expires_seconds},
        )
        return ArtifactLink.model_validate(body)

    def download_direct(self, run_id: str, path: str) -> Iterator[bytes]:
        """The file's bytes straight from object storage through a presigned link (no
        plinth credentials go there), verified against the digest here."""
        link = self.link(run_id, path)
        with httpx.stream("GET", link.url, timeout=LINK_TIMEOUT) as response:
            if response.status_code >= 400:
                raise Unavailable(f"object storage answered {response.status_code} for a link")
            yield from verified_chunks(response.iter_bytes(CHUNK_SIZE), link.digest, link.size)

    def direct_upload(self, run_id: str, expires_seconds: int = 900) -> DirectUpload:
        body = {"expires_seconds": expires_seconds}
        return DirectUpload.model_validate(
            self.http.post(f"/runs/{run_id}/direct-uploads", json=body)
        )

    def commit_direct_upload(
        self, run_id: str, token: str, path: str, digest: str | None = None
    ) -> ArtifactInfo:
        body = {"path": clean_artifact_path(path), "digest": digest}
        content = self.http.post(f"/runs/{run_id}/direct-uploads/{token}", json=body)
        return ArtifactInfo.model_validate(content)

    def upload_direct(self, run_id: str, path: str, source: BinaryIO) -> ArtifactInfo:
        """Send a file's bytes straight to object storage through a presigned URL (only its
        name and digest pass through the server), then commit it; ``Conflict`` when the
        server's storage takes no direct uploads."""
        path = clean_artifact_path(path)
        size = remaining_size(source)
        if size is None:
            raise InvalidArgument.for_field("source", "a direct upload needs a file, not a pipe")
        link = self.direct_upload(run_id)
        hasher = hashlib.sha256()
        start = source.tell()

        def hashed() -> Iterator[bytes]:
            for chunk in send_file(source, start, size):
                hasher.update(chunk)
                yield chunk

        headers = {"Content-Length": str(size)}
        try:
            response = httpx.put(link.url, content=hashed(), headers=headers, timeout=LINK_TIMEOUT)
        except httpx.TransportError as exc:
            raise Unavailable(f"object storage could not be reached for an upload: {exc}") from exc
        if response.status_code >= 400:
            raise Unavailable(f"object storage answered {response.status_code} for an upload")
        return self.commit_direct_upload(run_id, link.token, path, hasher.hexdigest())

    # -- resumable uploads -----------------------------------------------------------------

    def start_upload(self, run_id: str, path: str, size: int | None = None) -> Upload:
        response = self.send("POST", f"/runs/{run_id}/uploads", json={"path": path, "size": size})
        return Upload.model_validate_json(response.content)

    def get_upload(self, upload_id: str) -> Upload:
        return Upload.model_validate_json(self.send("GET", f"/uploads/{upload_id}").content)

    def upload_part(self, upload_id: str, number: int, source: BinaryIO) -> UploadPart:
        size = remaining_size(source)
        url = f"/uploads/{upload_id}/parts/{number}"
        if size is None:
            return UploadPart.model_validate_json(self.send("PUT", url, send_file(source)).content)
        start = source.tell()
        response = self.send("PUT", url, lambda: send_file(source, start, size), size=size)
        return UploadPart.model_validate_json(response.content)

    def complete_upload(self, upload_id: str) -> ArtifactInfo:
        response = self.send("POST", f"/uploads/{upload_id}/complete")
        return ArtifactInfo.model_validate_json(response.content)

    def abort_upload(self, upload_id: str) -> None:
        self.send("DELETE", f"/uploads/{upload_id}")

    # -- the wire --------------------------------------------------------------------------

    def send(
        self,
        method: str,
        url: str,
        body: Body | Iterator[bytes] = None,
        *,
        size: int | None = None,
        json: Any = None,
    ) -> httpx.Response:
        """One call, retried on network errors and 502-504 for ``http.retry_seconds`` when
        its body can be made again (``body`` is a callable, or there is none)."""
        headers = {}
        if json is not None:
            headers["Content-Type"] = "application/json"
        elif body is not None:
            headers["Content-Type"] = "application/octet-stream"
        if size is not None:
            headers["Content-Length"] = str(size)
        again = body is None or callable(body)
        deadline = time.monotonic() + (self.http.retry_seconds if again else 0)
        attempt = 0
        while True:
            attempt += 1
            content: Any = orjson.dumps(json) if json is not None else None
            if body is not None:
                content = body() if callable(body) else body
            try:
                response: httpx.Response
                with self.http.stream(method, url, content=content, headers=headers) as response:
                    response.read()
            except httpx.TransportError as exc:
                if time.monotonic() >= deadline:
                    raise Unavailable(f"cannot reach the plinth server: {exc}") from exc
            else:
                if response.status_code not in _RETRY_STATUSES or time.monotonic() >= deadline:
                    raise_for_problem(response)
                    return response
            time.sleep(min(2.0, 0.05 * 2**attempt))
