"""Dependencies that make routes read like prose: ``tracking: TrackingDep``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Request

from plinth.artifacts.sql import SqlRunArtifactStore
from plinth.artifacts.store import BlobStore
from plinth.config import Settings
from plinth.db.engine import Database
from plinth.entities.common import ANONYMOUS_ACTOR, Actor
from plinth.registry.service import RegistryService
from plinth.registry.sources import SourceReader
from plinth.registry.sql import SqlRegistryStore
from plinth.server.observability import ServerMetrics
from plinth.tracking.service import TrackingService
from plinth.tracking.sql import SqlTrackingStore


@dataclass
class ServerState:
    """What the app factory builds once and every request shares."""

    settings: Settings
    database: Database
    blobs: BlobStore
    metrics: ServerMetrics


# The dependencies are ``async def`` although they do no I/O: FastAPI runs plain ``def``
# dependencies in its threadpool, a thread hop each (a third of a small request's cost).


async def get_state(request: Request) -> ServerState:
    state: ServerState = request.app.state.plinth
    return state


StateDep = Annotated[ServerState, Depends(get_state)]


async def authorize(request: Request) -> Actor:
    """The one authorization dependency every route passes. Until authentication exists it
    allows everything and names the actor ``anonymous``."""
    actor = Actor(name=ANONYMOUS_ACTOR)
    request.state.actor = actor
    return actor


CurrentActor = Annotated[Actor, Depends(authorize)]


async def tracking_service(state: StateDep, actor: CurrentActor) -> TrackingService:
    return TrackingService(SqlTrackingStore(state.database, actor.name))


async def run_artifact_store(state: StateDep) -> SqlRunArtifactStore:
    return SqlRunArtifactStore(state.database, state.blobs)


async def registry_service(state: StateDep, actor: CurrentActor) -> RegistryService:
    tracking = TrackingService(SqlTrackingStore(state.database, actor.name))
    sources = SourceReader(tracking, SqlRunArtifactStore(state.database, state.blobs))
    return RegistryService(SqlRegistryStore(state.database, actor.name, sources))


IdempotencyKey = Annotated[str | None, Header(min_length=8, max_length=64)]
"""The ``Idempotency-Key`` header of a write that a client may retry: the same key, the
same outcome, applied once."""

TrackingDep = Annotated[TrackingService, Depends(tracking_service)]
ArtifactsDep = Annotated[SqlRunArtifactStore, Depends(run_artifact_store)]
RegistryDep = Annotated[RegistryService, Depends(registry_service)]
