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
    if any(any(_unfit(ch) for ch in part) for part in parts):
        raise InvalidArgument.for_field(
            "path", "may not contain control characters or bytes that are not UTF-8"
        )
    return "/".join(parts)


def _unfit(ch: str) -> bool:
    """C0 and C1 controls, DEL, and U+FFFD: what a URL's invalid UTF-8 decodes to, which
    would make different raw paths one stored path."""
    code = ord(ch)
    return code < 32 or 0x7F <= code <= 0x9F or code == 0xFFFD
