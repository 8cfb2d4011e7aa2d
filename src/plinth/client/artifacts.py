"""``RestRunArtifactStore``: run artifacts streamed to and from the server."""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO
from urllib.parse import quote

from plinth.artifacts.paths import clean_artifact_path
from plinth.client.http import HttpClient, raise_for_problem
from plinth.entities.artifacts import ArtifactInfo

CHUNK_SIZE = 1024 * 1024


class RestRunArtifactStore:
    """Implements ``RunArtifactStore`` against a plinth server."""

    def __init__(self, http: HttpClient) -> None:
        self.http = http

    def upload(self, run_id: str, path: str, source: BinaryIO) -> ArtifactInfo:
        path = clean_artifact_path(path)

        def chunks() -> Iterator[bytes]:
            while chunk := source.read(CHUNK_SIZE):
                yield chunk

        response = self.http.request(
            "PUT",
            f"/runs/{run_id}/artifacts/{quote(path)}",
            content=chunks(),
            headers={"Content-Type": "application/octet-stream"},
            retry=False,
        )
        return ArtifactInfo.model_validate_json(response.content)

    def list(self, run_id: str, prefix: str = "") -> list[ArtifactInfo]:
        items = self.http.get(f"/runs/{run_id}/artifacts", params={"path": prefix})
        return [ArtifactInfo.model_validate(item) for item in items]

    def download(self, run_id: str, path: str) -> Iterator[bytes]:
        path = clean_artifact_path(path)
        with self.http.stream("GET", f"/runs/{run_id}/artifacts/{quote(path)}") as response:
            if response.status_code >= 400:
                response.read()
                raise_for_problem(response)
            yield from response.iter_bytes(CHUNK_SIZE)
