"""The registry's outbox and webhooks in SQL.

An event is written in the transaction of the change it describes, with one delivery row
per webhook that wants it, so an acknowledged change always gets its webhooks and a rolled
back one never does. ``registry.webhooks.WebhookDeliverer`` sends the deliveries later.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from typing import Any

import orjson
from sqlalchemy import Connection, and_, bindparam, select, update

from plinth.db.tables.registry import (
    registry_events,
    webhook_attempts,
    webhook_deliveries,
    webhooks,
)
from plinth.entities.common import new_id
from plinth.entities.webhooks import (
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    EventType,
    Webhook,
    WebhookCreate,
)
from plinth.errors import NotFound

_INSERT_EVENT = registry_events.insert()
_INSERT_DELIVERY = webhook_deliveries.insert()
_ACTIVE_HOOKS = select(webhooks.c.id, webhooks.c.events_json, webhooks.c.model).where(
    webhooks.c.active.is_(True)
)


def record_event(
    conn: Connection,
    event_type: EventType,
    *,
    model: str,
    subject: str,
    data_json: str,
    actor: str,
    now: int,
) -> str:
    """Append an event and queue it for every webhook that wants it; returns its id."""
    event_id = new_id()
    conn.execute(
        _INSERT_EVENT,
        {
            "id": event_id,
            "type": event_type.value,
            "model": model,
            "subject": subject,
            "time": now,
            "actor": actor,
            "data_json": data_json,
        },
    )
    deliveries = [
        {
            "id": new_id(),
            "webhook_id": hook_id,
            "event_id": event_id,
            "status": DeliveryStatus.PENDING.value,
            "attempt_count": 0,
            "next_attempt_at": now,
            "created_at": now,
            "delivered_at": None,
        }
        for hook_id, events_json, hook_model in conn.execute(_ACTIVE_HOOKS)
        if (hook_model is None or hook_model == model)
        and (not (wanted := orjson.loads(events_json)) or event_type.value in wanted)
    ]
    if deliveries:
        conn.execute(_INSERT_DELIVERY, deliveries)
    return event_id


# webhooks ---------------------------------------------------------------------------------


def _webhook(row: Any, secret: str | None = None) -> Webhook:
    return Webhook(
        id=row.id,
        url=row.url,
        events=[EventType(e) for e in orjson.loads(row.events_json)],
        model=row.model,
        description=row.description,
        active=row.active,
        created_by=row.created_by,
        created_at=row.created_at,
        secret=secret,
    )


def create_webhook(conn: Connection, spec: WebhookCreate, actor: str, now: int) -> Webhook:
    webhook = Webhook(
        id=new_id(),
        url=spec.url,
        events=sorted(set(spec.events)),
        model=spec.model,
        description=spec.description,
        created_by=actor,
        created_at=now,
        secret=spec.secret or secrets.token_hex(32),
    )
    conn.execute(
        webhooks.insert(),
        {
            **webhook.model_dump(exclude={"events"}),
            "events_json": orjson.dumps([e.value for e in webhook.events]).decode(),
        },
    )
    return webhook


def list_webhooks(conn: Connection) -> list[Webhook]:
    rows = conn.execute(
        select(webhooks).where(webhooks.c.active.is_(True)).order_by(webhooks.c.created_at.desc())
    ).all()
    return [_webhook(row) for row in rows]


def get_webhook(conn: Connection, webhook_id: str) -> Webhook:
    row = conn.execute(select(webhooks).where(webhooks.c.id == webhook_id)).first()
    if row is None:
        raise NotFound(f"webhook {webhook_id!r} does not exist")
    return _webhook(row)


def delete_webhook(conn: Connection, webhook_id: str) -> None:
    get_webhook(conn, webhook_id)
    conn.execute(update(webhooks).where(webhooks.c.id == webhook_id).values(active=False))
    conn.execute(
        update(webhook_deliveries)
        .where(
            webhook_deliveries.c.webhook_id == webhook_id,
            webhook_deliveries.c.status == DeliveryStatus.PENDING.value,
        )
        .values(status=DeliveryStatus.FAILED.value, next_attempt_at=None)
    )


def list_deliveries(conn: Connection, webhook_id: str, max_results: int) -> list[Delivery]:
    get_webhook(conn, webhook_id)
    rows = conn.execute(
        select(
            webhook_deliveries,
            registry_events.c.type,
            registry_events.c.subject,
        )
        .join(registry_events, registry_events.c.id == webhook_deliveries.c.event_id)
        .where(webhook_deliveries.c.webhook_id == webhook_id)
        .order_by(webhook_deliveries.c.created_at.desc(), webhook_deliveries.c.id)
        .limit(max_results)
    ).all()
    attempts: dict[str, list[DeliveryAttempt]] = defaultdict(list)
    ids = [row.id for row in rows]
    if ids:
        for item in conn.execute(
            select(webhook_attempts)
            .where(webhook_attempts.c.delivery_id.in_(ids))
            .order_by(webhook_attempts.c.attempt)
        ):
            attempts[item.delivery_id].append(
                DeliveryAttempt(
                    at=item.at,
                    status_code=item.status_code,
                    error=item.error,
                    duration_ms=item.duration_ms,
                )
            )
    return [
        Delivery(
            id=row.id,
            webhook_id=row.webhook_id,
            event_id=row.event_id,
            event_type=row.type,
            subject=row.subject,
            status=DeliveryStatus(row.status),
            attempts=attempts[row.id],
            created_at=row.created_at,
            next_attempt_at=row.next_attempt_at,
            delivered_at=row.delivered_at,
        )
        for row in rows
    ]


# what the deliverer runs ------------------------------------------------------------------

_DUE = (
    select(
        webhook_deliveries.c.id,
        webhook_deliveries.c.next_attempt_at,
        webhook_deliveries.c.attempt_count,
        webhooks.c.url,
        webhooks.c.secret,
        registry_events.c.id.label("event_id"),
        registry_events.c.type,
        registry_events.c.subject,
        registry_events.c.model,
        registry_events.c.time,
        registry_events.c.data_json,
    )
    .join(webhooks, webhooks.c.id == webhook_deliveries.c.webhook_id)
    .join(registry_events, registry_events.c.id == webhook_deliveries.c.event_id)
    .where(
        webhook_deliveries.c.status == DeliveryStatus.PENDING.value,
        webhook_deliveries.c.next_attempt_at <= bindparam("now"),
    )
    .order_by(webhook_deliveries.c.next_attempt_at)
    .limit(bindparam("limit"))
)
_CLAIM = (
    update(webhook_deliveries)
    .where(
        and_(
            webhook_deliveries.c.id == bindparam("b_id"),
            webhook_deliveries.c.status == DeliveryStatus.PENDING.value,
            webhook_deliveries.c.next_attempt_at == bindparam("b_expected"),
        )
    )
    .values(next_attempt_at=bindparam("b_until"))
)
_FINISH = (
    update(webhook_deliveries)
    .where(webhook_deliveries.c.id == bindparam("b_id"))
    .values(
        status=bindparam("b_status"),
        attempt_count=bindparam("b_attempts"),
        next_attempt_at=bindparam("b_next"),
        delivered_at=bindparam("b_delivered"),
    )
)
_INSERT_ATTEMPT = webhook_attempts.insert()


def due_deliveries(conn: Connection, now: int, limit: int) -> list[Any]:
    """Pending deliveries whose time has come, oldest first, with their webhook and event."""
    return list(conn.execute(_DUE, {"now": now, "limit": limit}).all())


def claim(conn: Connection, delivery_id: str, expected_next: int, until: int) -> bool:
    """Take a delivery until ``until`` (another worker that read it too gets False)."""
    result = conn.execute(
        _CLAIM, {"b_id": delivery_id, "b_expected": expected_next, "b_until": until}
    )
    return result.rowcount == 1


def finish(
    conn: Connection,
    delivery_id: str,
    attempt: DeliveryAttempt,
    attempt_number: int,
    status: DeliveryStatus,
    next_attempt_at: int | None,
) -> None:
    """Record an attempt and where the delivery stands after it."""
    conn.execute(
        _INSERT_ATTEMPT,
        {"delivery_id": delivery_id, "attempt": attempt_number, **attempt.model_dump()},
    )
    conn.execute(
        _FINISH,
        {
            "b_id": delivery_id,
            "b_status": status.value,
            "b_attempts": attempt_number,
            "b_next": next_attempt_at,
            "b_delivered": attempt.at if status is DeliveryStatus.DELIVERED else None,
        },
    )
