"""Ids, timestamps, pages and actors: the vocabulary every component shares."""

from __future__ import annotations

import time
import uuid
from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict

T = TypeVar("T")

LOCAL_ACTOR = "local"
ANONYMOUS_ACTOR = "anonymous"


def now_ms() -> int:
    """Milliseconds since the epoch, UTC: the one timestamp unit on the wire."""
    return time.time_ns() // 1_000_000


def new_id() -> str:
    """A fresh 32-hex id (the form MLflow uses for runs)."""
    return uuid.uuid4().hex


class Entity(BaseModel):
    """Base of every domain object: immutable once built, unknown fields rejected."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Page(BaseModel, Generic[T]):
    """One page of a listing; pass ``next_page_token`` back to get the next one."""

    items: list[T]
    next_page_token: str | None = None


class Actor(Entity):
    """Who is doing something: an authenticated user, or ``local`` in embedded mode."""

    name: str
    roles: tuple[str, ...] = ()
