"""What a version copies from its source run: the model manifest's digest, flavor,
signature and scan result, the run's latest metrics and the data sets it read.

Read through the tracking service and the run artifact store (never their tables), before
any registry write transaction begins: reading a blob may be a network call.
"""

from __future__ import annotations

import hashlib

from plinth.artifacts.store import RunArtifactStore
from plinth.entities.models import MANIFEST_FILE
from plinth.entities.registry import VersionInput, VersionSnapshot
from plinth.entities.tracking import LifecycleStage, Run
from plinth.errors import Conflict, InvalidArgument, NotFound
from plinth.registry.manifest import read_manifest
from plinth.registry.uris import parse_run_source
from plinth.tracking.service import TrackingService

SYSTEM_METRIC_PREFIX = "system/"
"""System metrics (CPU, memory) describe the machine, not the model: not snapshotted."""


class SourceReader:
    """Reads runs and their logged models on behalf of the registry."""

    def __init__(self, tracking: TrackingService, artifacts: RunArtifactStore) -> None:
        self.tracking = tracking
        self.artifacts = artifacts

    def get_run(self, run_id: str) -> Run:
        return self.tracking.store.get_run(run_id)

    def snapshot(self, source: str) -> VersionSnapshot:
        """Everything a new version records about ``runs:/RUN_ID/PATH``."""
        run_id, path = parse_run_source(source)
        run = self.get_run(run_id)
        if run.lifecycle_stage == LifecycleStage.DELETED:
            raise Conflict(f"run {run_id!r} is deleted; restore it to register its model")
        manifest_path = f"{path}/{MANIFEST_FILE}"
        try:  # the store verifies the bytes against their digest as they stream
            content = b"".join(self.artifacts.download(run_id, manifest_path))
        except NotFound:
            raise InvalidArgument.for_field(
                "source", f"{source} holds no logged model (no {MANIFEST_FILE} there)"
            ) from None
        manifest = read_manifest(content, manifest_path)
        return VersionSnapshot(
            project=run.project,
            run_id=run_id,
            artifact_path=path,
            digest=hashlib.sha256(content).hexdigest(),
            flavor=manifest.flavor,
            format=manifest.format,
            signature=manifest.signature,
            scan=manifest.scan,
            metrics={
                key: latest.value
                for key, latest in run.metrics.items()
                if not key.startswith(SYSTEM_METRIC_PREFIX)
            },
            inputs=[
                VersionInput(project=run.project, name=i.name, digest=i.digest, context=i.context)
                for i in run.inputs
            ],
        )
