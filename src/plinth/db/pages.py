"""Opaque page tokens: clients pass back what they were given and never build one."""

from __future__ import annotations

import base64
import binascii

import orjson

from plinth.errors import InvalidArgument


def encode_page_token(offset: int) -> str:
    return base64.urlsafe_b64encode(orjson.dumps({"offset": offset})).decode().rstrip("=")


def decode_page_token(token: str | None) -> int:
    """The offset a token stands for (0 without one); a forged token is a 400."""
    if not token:
        return 0
    try:
        padded = token + "=" * (-len(token) % 4)
        offset = orjson.loads(base64.urlsafe_b64decode(padded))["offset"]
    except (binascii.Error, ValueError, KeyError, TypeError) as exc:
        raise InvalidArgument.for_field("page_token", "not a token this server issued") from exc
    if not isinstance(offset, int) or isinstance(offset, bool) or not 0 <= offset < 2**62:
        raise InvalidArgument.for_field("page_token", "not a token this server issued")
    return offset
