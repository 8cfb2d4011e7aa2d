"""``connect(settings)``: the one place that picks the SQL (in-process) or REST (over HTTP)
version of every store, from settings alone."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from plinth.artifacts.store import RunArtifactStore
from plinth.config import Settings
from plinth.entities.common import LOCAL_ACTOR
from plinth.registry.service import RegistryService
from plinth.tracking.service import TrackingService


@dataclass
class Platform:
    """Every component's service or store, bound to one backend."""

    settings: Settings
    tracking: TrackingService
    artifacts: RunArtifactStore
    registry: RegistryService
    remote: bool
    _closers: list[Any] = field(default_factory=list, repr=False)

    def close(self) -> None:
        for closer in self._closers:
            closer()
        self._closers.clear()


def connect(settings: Settings | None = None) -> Platform:
    """A platform on ``settings.url`` when it is set, else on the local data dir."""
    settings = settings or Settings()
    if settings.url:
        return _connect_remote(settings)
    return _connect_local(settings)


def _connect_remote(settings: Settings) -> Platform:
    from plinth.client.artifacts import RestRunArtifactStore
    from plinth.client.http import HttpClient
    from plinth.client.registry import RestRegistryStore
    from plinth.client.spool import Spool
    from plinth.client.tracking import RestTrackingStore

    http = HttpClient.from_settings(settings)
    spool = Spool(settings.spool_dir)
    return Platform(
        settings=settings,
        tracking=TrackingService(RestTrackingStore(http, spool)),
        artifacts=RestRunArtifactStore(
            http, resume_dir=settings.data_dir.expanduser() / "upload-notes"
        ),
        registry=RegistryService(RestRegistryStore(http)),
        remote=True,
        _closers=[http.close],
    )


def _connect_local(settings: Settings) -> Platform:
    from plinth.artifacts.backends import open_blob_store
    from plinth.artifacts.sql import SqlRunArtifactStore
    from plinth.db.engine import Database
    from plinth.db.migrate import upgrade_if_needed
    from plinth.registry.sources import SourceReader
    from plinth.registry.sql import SqlRegistryStore
    from plinth.tracking.sql import SqlTrackingStore

    database = Database(
        settings.resolved_database_url, sqlite_synchronous=settings.sqlite_synchronous
    )
    upgrade_if_needed(database)
    tracking = TrackingService(SqlTrackingStore(database, LOCAL_ACTOR))
    artifacts = SqlRunArtifactStore(database, open_blob_store(settings))
    sources = SourceReader(tracking, artifacts)
    return Platform(
        settings=settings,
        tracking=tracking,
        artifacts=artifacts,
        registry=RegistryService(SqlRegistryStore(database, LOCAL_ACTOR, sources)),
        remote=False,
        _closers=[database.dispose],
    )
