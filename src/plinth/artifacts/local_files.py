"""Artifacts and the local disk: which files of a folder to upload, and where a downloaded
artifact may land. Neither follows a symlink out of the folder it was given: a link to
``/etc`` inside a model folder is refused, not uploaded, and an artifact path can never
write outside the destination chosen."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from plinth.artifacts.paths import clean_artifact_path
from plinth.errors import InvalidArgument


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def files_to_upload(folder: Path, prefix: str = "") -> list[tuple[Path, str]]:
    """``(local file, artifact path)`` for every file under ``folder``, in path order.
    Symlinks are allowed only when they stay inside ``folder``."""
    root = folder.resolve()
    if not root.is_dir():
        raise InvalidArgument.for_field("local_dir", f"{folder} is not a folder")
    found: list[tuple[Path, str]] = []
    for current, dirs, files in os.walk(root):
        here = Path(current)
        for name in [*dirs, *files]:
            entry = here / name
            if entry.is_symlink() and not _inside(entry.resolve(), root):
                raise InvalidArgument.for_field(
                    "local_dir", f"{entry} is a symlink that leads outside {folder}"
                )
        for name in files:
            entry = here / name
            if entry.resolve().is_file():
                relative = entry.relative_to(root).as_posix()
                found.append((entry, clean_artifact_path(f"{prefix}/{relative}".strip("/"))))
    return sorted(found, key=lambda pair: pair[1])


def destination(root: Path, artifact_path: str) -> Path:
    """Where ``artifact_path`` lands under ``root``; refused if it (or a symlink on the
    way) would lead outside ``root``."""
    relative = clean_artifact_path(artifact_path)
    base = root.resolve()
    target = base / relative
    if not _inside(target.parent.resolve(), base) or (
        target.is_symlink() and not _inside(target.resolve(), base)
    ):
        raise InvalidArgument.for_field("path", f"{artifact_path} would be written outside {root}")
    return target


def save(chunks: Iterable[bytes], target: Path) -> int:
    """Write ``chunks`` to ``target`` atomically (a temporary file, then a rename)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    size = 0
    try:
        with os.fdopen(handle, "wb") as out:
            for chunk in chunks:
                out.write(chunk)
                size += len(chunk)
        os.replace(temporary, target)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
    return size
