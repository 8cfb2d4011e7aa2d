"""What a served file is, from its name."""

from __future__ import annotations

import mimetypes


def media_type_for(path: str) -> str:
    guessed, _ = mimetypes.guess_type(path)
    return guessed or "application/octet-stream"
