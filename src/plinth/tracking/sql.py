"""``SqlTrackingStore``: the tracking store on SQLAlchemy Core (SQLite or PostgreSQL)."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import bindparam, select, update

from plinth.db.dialect import insert_ignoring_conflicts
from plinth.db.engine import Database
from plinth.db.pages import decode_page_token, encode_page_token
from plinth.db.prepared import Prepared
from plinth.db.statistics import ensure_statistics
from plinth.db.tables.tracking import (
    datasets,
    experiment_tags,
    experiments,
    metric_series,
    projects,
    run_inputs,
    runs,
)
from plinth.entities.common import Page, new_id, now_ms
from plinth.entities.tracking import (
    DEFAULT_EXPERIMENT_ID,
    BatchResult,
    DatasetInput,
    Experiment,
    ExperimentCreate,
    LifecycleStage,
    MetricHistory,
    Project,
    Run,
    RunBatch,
    RunCreate,
    RunQuery,
    RunStatus,
    RunUpdate,
    ViewType,
    run_from_spec,
)
from plinth.errors import AlreadyExists, Conflict, FieldError, InvalidArgument, NotFound
from plinth.tracking import sql_chunks, sql_metrics, sql_runs
from plinth.tracking.names import random_run_name
from plinth.tracking.search import parse_filter, parse_order_by
from plinth.tracking.sql_search import build_search

_INSERT_RUN = Prepared(runs.insert())
_EXPERIMENT_STAGE = Prepared(
    select(experiments.c.project, experiments.c.lifecycle_stage).where(
        experiments.c.id == bindparam("id")
    )
)
_RUN_EXPERIMENT = Prepared(select(runs.c.experiment_id).where(runs.c.id == bindparam("id")))
_RUN_STAGE = Prepared(select(runs.c.lifecycle_stage).where(runs.c.id == bindparam("id")))


class SqlTrackingStore:
    """Implements ``TrackingStore`` on a ``Database``, writing on behalf of ``actor``."""

    def __init__(self, database: Database, actor: str) -> None:
        self.database = database
        self.actor = actor

    # projects ---------------------------------------------------------------------------

    def list_projects(self) -> list[Project]:
        with self.database.read() as conn:
            rows = conn.execute(select(projects).order_by(projects.c.name)).all()
        return [Project.model_validate(row._asdict()) for row in rows]

    def create_project(self, name: str, description: str = "") -> Project:
        project = Project(
            name=name, description=description, created_at=now_ms(), created_by=self.actor
        )
        with self.database.write() as conn:
            if conn.execute(select(projects.c.name).where(projects.c.name == name)).first():
                raise AlreadyExists(f"project {name!r} already exists")
            conn.execute(projects.insert().values(**project.model_dump()))
        return project

    # experiments ------------------------------------------------------------------------

    def create_experiment(self, spec: ExperimentCreate) -> Experiment:
        experiment_id = new_id()
        with self.database.write() as conn:
            if not conn.execute(
                select(projects.c.name).where(projects.c.name == spec.project)
            ).first():
                raise NotFound(f"project {spec.project!r} does not exist")
            taken = conn.execute(
                select(experiments.c.id).where(
                    experiments.c.project == spec.project, experiments.c.name == spec.name
                )
            ).first()
            if taken:
                raise AlreadyExists(
                    f"experiment {spec.name!r} already exists in project {spec.project!r}"
                )
            conn.execute(
                experiments.insert().values(
                    id=experiment_id,
                    project=spec.project,
                    name=spec.name,
                    description=spec.description,
                    lifecycle_stage=LifecycleStage.ACTIVE.value,
                    created_at=now_ms(),
                    created_by=self.actor,
                )
            )
            if spec.tags:
                conn.execute(
                    experiment_tags.insert(),
                    [
                        {"experiment_id": experiment_id, "key": k, "value": v}
                        for k, v in spec.tags.items()
                    ],
                )
        return self.get_experiment(experiment_id)

    def get_experiment(self, experiment_id: str) -> Experiment:
        with self.database.read() as conn:
            return sql_runs.load_experiments(
                conn, [sql_runs.get_experiment_row(conn, experiment_id)]
            )[0]

    def get_experiment_by_name(self, project: str, name: str) -> Experiment:
        with self.database.read() as conn:
            row = conn.execute(
                select(experiments).where(
                    experiments.c.project == project, experiments.c.name == name
                )
            ).first()
            if row is None:
                raise NotFound(f"experiment {name!r} does not exist in project {project!r}")
            return sql_runs.load_experiments(conn, [row])[0]

    def list_experiments(
        self,
        project: str | None = None,
        view: ViewType = ViewType.ACTIVE,
        max_results: int = 100,
        page_token: str | None = None,
    ) -> Page[Experiment]:
        offset = decode_page_token(page_token)
        statement = select(experiments)
        if project is not None:
            statement = statement.where(experiments.c.project == project)
        if view != ViewType.ALL:
            statement = statement.where(experiments.c.lifecycle_stage == view.value)
        statement = statement.order_by(experiments.c.created_at.desc(), experiments.c.id)
        with self.database.read() as conn:
            rows = conn.execute(statement.limit(max_results + 1).offset(offset)).all()
            items = sql_runs.load_experiments(conn, rows[:max_results])
        token = encode_page_token(offset + max_results) if len(rows) > max_results else None
        return Page[Experiment](items=items, next_page_token=token)

    def delete_experiment(self, experiment_id: str) -> None:
        if experiment_id == DEFAULT_EXPERIMENT_ID:
            raise InvalidArgument.for_field("experiment_id", "the default experiment stays")
        self._set_experiment_stage(experiment_id, LifecycleStage.DELETED)

    def restore_experiment(self, experiment_id: str) -> None:
        self._set_experiment_stage(experiment_id, LifecycleStage.ACTIVE)

    def _set_experiment_stage(self, experiment_id: str, stage: LifecycleStage) -> None:
        with self.database.write() as conn:
            sql_runs.get_experiment_row(conn, experiment_id)
            conn.execute(
                update(experiments)
                .where(experiments.c.id == experiment_id)
                .values(lifecycle_stage=stage.value)
            )

    # runs -------------------------------------------------------------------------------

    def create_run(self, spec: RunCreate) -> Run:
        with self.database.write() as conn:
            run, _ = self._create_run(conn, spec.run_id or new_id(), spec)
        return run

    def _create_run(
        self, conn: Any, run_id: str, spec: RunCreate, finish: RunUpdate | None = None
    ) -> tuple[Run, bool]:
        """Insert the run (or find it, when this id already exists in the same experiment);
        the flag says whether it was created just now. ``finish`` (a batch's update) is
        written into the new row rather than applied after it."""
        experiment_id = spec.experiment_id or self._default_experiment(conn, spec.project)
        found = _EXPERIMENT_STAGE.execute(conn, {"id": experiment_id})
        if not found:
            raise NotFound(f"experiment {experiment_id!r} does not exist")
        project, stage = found[0]
        if stage != LifecycleStage.ACTIVE.value:
            raise Conflict(f"experiment {experiment_id!r} is deleted")
        existing = _RUN_EXPERIMENT.execute(conn, {"id": run_id})
        if existing:
            if existing[0][0] != experiment_id:
                raise AlreadyExists(f"run {run_id!r} exists in another experiment")
            return sql_runs.load_runs(conn, [run_id])[0], False
        if spec.parent_run_id is not None:
            sql_runs.get_run_row(conn, spec.parent_run_id)
        run = run_from_spec(
            spec,
            run_id=run_id,
            experiment_id=experiment_id,
            project=project,
            name=spec.name or random_run_name(),
            start_time=spec.start_time if spec.start_time is not None else now_ms(),
            created_by=self.actor,
        )
        row = {
            "id": run.id,
            "experiment_id": run.experiment_id,
            "name": run.name,
            "status": run.status.value,
            "start_time": run.start_time,
            "end_time": None,
            "user_name": run.user,
            "source_script": run.source.script,
            "git_commit": run.source.git_commit,
            "git_dirty": run.source.git_dirty,
            "git_branch": run.source.git_branch,
            "parent_run_id": run.parent_run_id,
            "notes": run.notes,
            "lifecycle_stage": LifecycleStage.ACTIVE.value,
            "created_by": run.created_by,
        }
        if finish is not None:
            row.update(self._update_values(finish))
        _INSERT_RUN.execute(conn, row)
        if spec.params:  # a run created just now has no params to conflict with
            sql_metrics.write_params(conn, self.database, run_id, spec.params, verify=False)
        if spec.tags:
            sql_metrics.write_tags(conn, self.database, run_id, spec.tags)
        return run, True

    def _default_experiment(self, conn: Any, project: str) -> str:
        if project == "default":
            return DEFAULT_EXPERIMENT_ID
        row = conn.execute(
            select(experiments.c.id).where(
                experiments.c.project == project, experiments.c.name == "Default"
            )
        ).first()
        if row is None:
            raise InvalidArgument.for_field(
                "experiment_id", f"project {project!r} has no Default experiment; name one"
            )
        return str(row.id)

    def get_run(self, run_id: str) -> Run:
        with self.database.read() as conn:
            found = sql_runs.load_runs(conn, [run_id])
        if not found:
            raise NotFound(f"run {run_id!r} does not exist")
        return found[0]

    def update_run(self, run_id: str, update_spec: RunUpdate) -> Run:
        with self.database.write() as conn:
            sql_runs.get_run_row(conn, run_id)
            self._apply_update(conn, run_id, update_spec)
            return sql_runs.load_runs(conn, [run_id])[0]

    def _apply_update(self, conn: Any, run_id: str, spec: RunUpdate) -> None:
        values = self._update_values(spec)
        if values:
            conn.execute(update(runs).where(runs.c.id == run_id).values(**values))

    @staticmethod
    def _update_values(spec: RunUpdate) -> dict[str, Any]:
        """The ``runs`` columns an update sets (a terminal status also sets the end time)."""
        values = spec.model_dump(exclude_none=True)
        if spec.status is not None:
            values["status"] = spec.status.value
            if spec.status.is_terminal and spec.end_time is None:
                values["end_time"] = now_ms()
            if spec.status is RunStatus.RUNNING:
                values["end_time"] = None
        return values

    def delete_run(self, run_id: str) -> None:
        self._set_run_stage(run_id, LifecycleStage.DELETED)

    def restore_run(self, run_id: str) -> None:
        self._set_run_stage(run_id, LifecycleStage.ACTIVE)

    def _set_run_stage(self, run_id: str, stage: LifecycleStage) -> None:
        with self.database.write() as conn:
            sql_runs.get_run_row(conn, run_id)
            conn.execute(
                update(runs).where(runs.c.id == run_id).values(lifecycle_stage=stage.value)
            )

    def log_batch(self, run_id: str, batch: RunBatch) -> BatchResult:
        points = batch.point_count
        if batch.create is not None and batch.create.run_id not in (None, run_id):
            raise InvalidArgument.for_field("create.run_id", "must be the run the batch is for")
        with self.database.write() as conn:
            created = False
            if batch.create is not None:
                _, created = self._create_run(conn, run_id, batch.create, batch.update)
            # first: an unknown id is never claimed (a run created just now is known active)
            stage = LifecycleStage.ACTIVE.value if created else self._run_stage(conn, run_id)
            if batch.batch_id is not None and not sql_metrics.claim_batch(
                conn, self.database, batch.batch_id, run_id, points, self.actor
            ):
                if sql_metrics.claimed_run(conn, batch.batch_id) != run_id:
                    raise Conflict(
                        f"batch_id {batch.batch_id!r} was already applied to another run",
                        [FieldError("batch_id", "already used for another run")],
                    )
                return BatchResult(applied=False, points=points)
            if stage == LifecycleStage.DELETED.value:
                raise Conflict(f"run {run_id!r} is deleted; restore it to log to it")
            if batch.params:
                sql_metrics.write_params(
                    conn, self.database, run_id, batch.params, verify=not created
                )
            if batch.tags:
                sql_metrics.write_tags(conn, self.database, run_id, batch.tags)
            if batch.metrics is not None:
                sql_metrics.write_metrics(
                    conn, self.database, run_id, batch.metrics, new_run=created
                )
            if batch.update is not None and not created:  # a new run was inserted finished
                self._apply_update(conn, run_id, batch.update)
        return BatchResult(applied=True, points=points)

    @staticmethod
    def _run_stage(conn: Any, run_id: str) -> str:
        found = _RUN_STAGE.execute(conn, {"id": run_id})
        if not found:
            raise NotFound(f"run {run_id!r} does not exist")
        return str(found[0][0])

    def log_inputs(self, run_id: str, inputs: list[DatasetInput]) -> None:
        with self.database.write() as conn:
            sql_runs.get_run_row(conn, run_id)
            project = conn.execute(
                select(experiments.c.project)
                .join(runs, runs.c.experiment_id == experiments.c.id)
                .where(runs.c.id == run_id)
            ).scalar_one()
            for item in inputs:
                dataset_id = self._dataset_id(conn, project, item)
                conn.execute(
                    insert_ignoring_conflicts(self.database, run_inputs).values(
                        run_id=run_id, dataset_id=dataset_id, context=item.context
                    )
                )

    def _dataset_id(self, conn: Any, project: str, item: DatasetInput) -> str:
        conn.execute(
            insert_ignoring_conflicts(self.database, datasets).values(
                id=new_id(),
                project=project,
                name=item.name,
                digest=item.digest,
                schema_json=orjson.dumps(item.schema_).decode()
                if item.schema_ is not None
                else None,
                source=item.source,
                num_rows=item.num_rows,
                created_at=now_ms(),
            )
        )
        return str(
            conn.execute(
                select(datasets.c.id).where(
                    datasets.c.project == project,
                    datasets.c.name == item.name,
                    datasets.c.digest == item.digest,
                )
            ).scalar_one()
        )

    def get_metric_history(
        self,
        run_id: str,
        key: str,
        *,
        max_points: int | None = None,
        min_step: int | None = None,
        max_step: int | None = None,
    ) -> MetricHistory:
        with self.database.read() as conn:
            series = conn.execute(
                select(metric_series.c.id).where(
                    metric_series.c.run_id == run_id, metric_series.c.key == key
                )
            ).first()
            if series is None:
                sql_runs.get_run_row(conn, run_id)
                return sql_metrics.empty_history(run_id, key)
            steps, stamps, values, lows, highs, total = sql_chunks.read_history(
                conn, series.id, max_points, min_step, max_step
            )
        return MetricHistory.model_construct(
            run_id=run_id,
            key=key,
            steps=steps,
            timestamps=stamps,
            values=values,
            values_min=lows,
            values_max=highs,
            downsampled=lows is not None,
            total_points=total,
        )

    def search_runs(self, query: RunQuery) -> Page[Run]:
        ensure_statistics(self.database)  # PostgreSQL right after a bulk import
        tree = parse_filter(query.filter)
        order = parse_order_by(query.order_by)
        offset = decode_page_token(query.page_token)
        statement = build_search(query, tree, order).limit(query.max_results + 1).offset(offset)
        with self.database.read() as conn:
            ids = list(conn.execute(statement).scalars())
            items = sql_runs.load_runs(conn, ids[: query.max_results])
        token = (
            encode_page_token(offset + query.max_results) if len(ids) > query.max_results else None
        )
        return Page[Run](items=items, next_page_token=token)
