"""Artifacts: files stored by content digest and placed at paths of a run."""

from __future__ import annotations

from plinth.entities.common import Entity


class ArtifactInfo(Entity):
    """A file (with its size and sha256) or a folder (``is_dir``) under a run's artifacts."""

    path: str
    is_dir: bool = False
    size: int | None = None
    digest: str | None = None
