"""Webhooks: where registry events go, and what happened to each delivery."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from plinth.entities.limits import MAX_RESULTS
from plinth.entities.tracking import Id
from plinth.entities.webhooks import Delivery, Webhook, WebhookCreate
from plinth.server.deps import RegistryDep
from plinth.server.routing import OrjsonRoute

router = APIRouter(tags=["webhooks"], route_class=OrjsonRoute)


@router.get("/webhooks")
def list_webhooks(registry: RegistryDep) -> list[Webhook]:
    return registry.store.list_webhooks()


@router.post("/webhooks", status_code=status.HTTP_201_CREATED)
def create_webhook(spec: WebhookCreate, registry: RegistryDep) -> Webhook:
    """The answer carries the signing secret; it is never shown again."""
    return registry.store.create_webhook(spec)


@router.get("/webhooks/{webhook_id}")
def get_webhook(webhook_id: Id, registry: RegistryDep) -> Webhook:
    return registry.store.get_webhook(webhook_id)


@router.delete("/webhooks/{webhook_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_webhook(webhook_id: Id, registry: RegistryDep) -> None:
    registry.store.delete_webhook(webhook_id)


@router.get("/webhooks/{webhook_id}/deliveries")
def list_deliveries(
    webhook_id: Id,
    registry: RegistryDep,
    max_results: Annotated[int, Query(ge=1, le=MAX_RESULTS)] = 100,
) -> list[Delivery]:
    """Deliveries, newest first, each with every attempt (status code, error, duration)."""
    return registry.store.list_deliveries(webhook_id, max_results)
