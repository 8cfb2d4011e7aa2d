"""The tracking store contract. ``sql.SqlTrackingStore`` and ``client.tracking.RestTrackingStore``
both implement it, so the SDK and CLI behave the same locally and against a server.

Every write is made on behalf of the actor the store was built for; every method raises
``NotFound`` for unknown ids and ``InvalidArgument`` for bad input.
"""

from __future__ import annotations

from typing import Protocol

from plinth.entities.common import Page
from plinth.entities.tracking import (
    BatchResult,
    DatasetInput,
    Experiment,
    ExperimentCreate,
    MetricHistory,
    Project,
    Run,
    RunBatch,
    RunCreate,
    RunQuery,
    RunUpdate,
    ViewType,
)


class TrackingStore(Protocol):
    """Persistence of projects, experiments and runs."""

    def list_projects(self) -> list[Project]:
        """Every project, by name."""
        ...

    def create_project(self, name: str, description: str = "") -> Project:
        """Create a project; ``AlreadyExists`` if the name is taken."""
        ...

    def create_experiment(self, spec: ExperimentCreate) -> Experiment:
        """Create an experiment; ``AlreadyExists`` if the project has one of that name."""
        ...

    def get_experiment(self, experiment_id: str) -> Experiment:
        """The experiment with this id, deleted or not."""
        ...

    def get_experiment_by_name(self, project: str, name: str) -> Experiment:
        """The experiment of this name in this project."""
        ...

    def list_experiments(
        self,
        project: str | None = None,
        view: ViewType = ViewType.ACTIVE,
        max_results: int = 100,
        page_token: str | None = None,
    ) -> Page[Experiment]:
        """Experiments ordered by creation time, newest first."""
        ...

    def delete_experiment(self, experiment_id: str) -> None:
        """Mark an experiment (and so its runs, for listings) deleted."""
        ...

    def restore_experiment(self, experiment_id: str) -> None:
        """Undo ``delete_experiment``."""
        ...

    def create_run(self, spec: RunCreate) -> Run:
        """Start a run. With a ``run_id`` that already exists in the same experiment this
        returns the stored run unchanged (so a replayed creation is harmless)."""
        ...

    def get_run(self, run_id: str) -> Run:
        """The run with its params, tags, latest metrics and inputs."""
        ...

    def update_run(self, run_id: str, update: RunUpdate) -> Run:
        """Change a run's name, status, end time or notes."""
        ...

    def delete_run(self, run_id: str) -> None:
        """Mark a run deleted; it leaves searches unless they ask for deleted runs."""
        ...

    def restore_run(self, run_id: str) -> None:
        """Undo ``delete_run``."""
        ...

    def log_batch(self, run_id: str, batch: RunBatch) -> BatchResult:
        """Apply metrics, params, tags and a status change atomically: all or nothing.

        A ``batch_id`` seen before is not applied again (``applied`` is then False).
        Re-logging a param with a different value raises ``Conflict``.
        """
        ...

    def log_inputs(self, run_id: str, inputs: list[DatasetInput]) -> None:
        """Record the data sets a run read (idempotent)."""
        ...

    def get_metric_history(
        self,
        run_id: str,
        key: str,
        *,
        max_points: int | None = None,
        min_step: int | None = None,
        max_step: int | None = None,
    ) -> MetricHistory:
        """A metric's points ordered by step; past ``max_points`` they are downsampled into
        buckets that keep each bucket's min, max and mean."""
        ...

    def search_runs(self, query: RunQuery) -> Page[Run]:
        """Runs matching the query's filter, in its order, one page at a time."""
        ...
