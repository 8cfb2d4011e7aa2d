"""Artifact paths are relative, normalised and cannot climb out of their root."""

from __future__ import annotations

from plinth.errors import InvalidArgument

MAX_PATH_LENGTH = 1024


def clean_artifact_path(path: str, *, allow_root: bool = False) -> str:
    """``a/b/c.txt`` stays; ``/etc/passwd``, ``../x``, ``a/../../x`` and ``a\\b`` are refused."""
    if allow_root and path in ("", "/", "."):
        return ""
    if not path or len(path) > MAX_PATH_LENGTH:
        raise InvalidArgument.for_field("path", f"must be 1 to {MAX_PATH_LENGTH} characters")
    if path.startswith("/") or "\\" in path or "\x00" in path:
        raise InvalidArgument.for_field("path", "must be a relative path with '/' separators")
    parts = [part for part in path.split("/") if part not in ("", ".")]
    if not parts or any(part == ".." for part in parts):
        raise InvalidArgument.for_field("path", "may not contain '..'")
    if any(any(ord(ch) < 32 for ch in part) for part in parts):
        raise InvalidArgument.for_field("path", "may not contain control characters")
    return "/".join(parts)
