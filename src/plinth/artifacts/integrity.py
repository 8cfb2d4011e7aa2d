"""Digests and the errors of stored bytes: a blob that no longer hashes to its address, a
file that would run code when loaded. Both are plinth errors, so the server answers them as
problem+json and the REST client raises the same classes again."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator

from plinth.errors import CorruptArtifact, InvalidArgument

_DIGEST = re.compile(r"^[0-9a-f]{64}$")


def check_digest(digest: str) -> str:
    """A sha256 hex digest, lower case; anything else (a path, say) is refused."""
    if not _DIGEST.match(digest):
        raise InvalidArgument.for_field("digest", "must be 64 lower-case hex characters")
    return digest


def verified_chunks(chunks: Iterable[bytes], digest: str, size: int) -> Iterator[bytes]:
    """Yield ``chunks`` while hashing them, holding the last one back until the whole blob
    is known to hash to ``digest`` and to be ``size`` bytes: a reader of a corrupt blob
    never receives a complete body (over HTTP the connection is cut short of its
    Content-Length), so it cannot mistake one for good."""
    hasher = hashlib.sha256()
    total = 0
    held: bytes | None = None
    for chunk in chunks:
        hasher.update(chunk)
        total += len(chunk)
        if held is not None:
            yield held
        held = chunk
    if hasher.hexdigest() != digest or total != size:
        raise CorruptArtifact(
            f"blob sha256:{digest} is corrupt in storage ({total} bytes, expected {size})"
        )
    if held is not None:
        yield held
