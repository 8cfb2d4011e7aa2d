"""Webhooks: registry events delivered as CloudEvents to configured URLs, with history."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field

from plinth.entities.common import Entity
from plinth.entities.tracking import Text

EVENT_PREFIX = "dev.plinth.registry."


class EventType(StrEnum):
    VERSION_CREATED = EVENT_PREFIX + "model_version.created"
    ALIAS_MOVED = EVENT_PREFIX + "alias.moved"
    PROMOTION_REQUESTED = EVENT_PREFIX + "promotion.requested"
    PROMOTION_DECIDED = EVENT_PREFIX + "promotion.decided"


def _check_url(url: str) -> str:
    if not url.startswith(("http://", "https://")) or len(url) < 10:
        raise ValueError("must be an http:// or https:// URL")
    if any(c.isspace() or ord(c) < 32 for c in url):
        raise ValueError("may not contain spaces or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port  # out of range raises here
    except ValueError as exc:
        raise ValueError(f"is not a valid URL ({exc})") from None
    if not parts.hostname or port == 0:
        raise ValueError("must name a host (and a port from 1 to 65535, if any)")
    return url


WebhookUrl = Annotated[str, Field(max_length=2048), AfterValidator(_check_url)]


class WebhookCreate(Entity):
    url: WebhookUrl
    events: list[EventType] = Field(
        default_factory=list, max_length=10, description="Event types to send; empty: all."
    )
    model: Text | None = Field(default=None, max_length=250, description="Only this model.")
    secret: Text | None = Field(
        default=None,
        min_length=16,
        max_length=256,
        description="HMAC-SHA256 key for X-Plinth-Signature; generated when absent.",
    )
    description: Text = Field(default="", max_length=1000)


class Webhook(Entity):
    id: str
    url: str
    events: list[EventType] = Field(default_factory=list)
    model: str | None = None
    description: str = ""
    active: bool = True
    created_by: str
    created_at: int
    secret: str | None = Field(
        default=None, description="Shown once, in the answer to the creation; never again."
    )


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"
    """Every attempt failed; no more retries."""


class DeliveryAttempt(Entity):
    at: int
    status_code: int | None = None
    error: str | None = None
    duration_ms: int


class Delivery(Entity):
    id: str
    webhook_id: str
    event_id: str
    event_type: str
    subject: str
    status: DeliveryStatus
    attempts: list[DeliveryAttempt] = Field(default_factory=list)
    created_at: int
    next_attempt_at: int | None = None
    delivered_at: int | None = None
