"""``SqlRegistryStore``: the registry store on SQLAlchemy Core (SQLite or PostgreSQL).

Promotion, approval and rollback live in ``sql_promotion``, events and webhooks in
``sql_events``, lineage in ``sql_lineage``; rows become entities in ``sql_rows``.
"""

from __future__ import annotations

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import Connection, bindparam, delete, func, select, update
from sqlalchemy.exc import IntegrityError

from plinth.artifacts.sql_manifest import freeze
from plinth.db.dialect import insert_ignoring_conflicts, upsert
from plinth.db.engine import Database
from plinth.db.pages import decode_page_token, encode_page_token
from plinth.db.tables.registry import (
    alias_moves,
    model_aliases,
    model_approvers,
    model_gates,
    model_version_inputs,
    model_versions,
    promotion_requests,
    registered_model_tags,
    registered_models,
)
from plinth.entities.common import Page, now_ms
from plinth.entities.lineage import Direction, LineageGraph
from plinth.entities.models import MANIFEST_FILE
from plinth.entities.registry import (
    Alias,
    AliasMove,
    Approver,
    ApproverCreate,
    Decision,
    DecisionCreate,
    GatePolicy,
    ModelGates,
    ModelName,
    ModelVersion,
    ModelVersionCreate,
    ModelVersionUpdate,
    PromotionCreate,
    PromotionRequest,
    PromotionResult,
    RegisteredModel,
    RegisteredModelCreate,
    RegisteredModelUpdate,
    RequestStatus,
    RollbackCreate,
    VersionSnapshot,
    VersionStatus,
)
from plinth.entities.webhooks import Delivery, EventType, Webhook, WebhookCreate
from plinth.errors import AlreadyExists, Conflict, FieldError, InvalidArgument, NotFound
from plinth.registry import sql_events, sql_promotion, sql_rows
from plinth.registry.lineage import walk
from plinth.registry.sources import SourceReader
from plinth.registry.sql_lineage import SqlLineageReader
from plinth.registry.uris import parse_run_source

_MODEL_NAME: TypeAdapter[str] = TypeAdapter(ModelName)
_NEXT_VERSION = (
    update(registered_models)
    .where(registered_models.c.name == bindparam("b_name"))
    .values(version_counter=registered_models.c.version_counter + 1, updated_at=bindparam("b_now"))
    .returning(registered_models.c.version_counter)
)
_INSERT_VERSION = model_versions.insert()
_INSERT_INPUT = model_version_inputs.insert()


def _registered_by(conn: Connection, name: str, spec: ModelVersionCreate) -> ModelVersion | None:
    """The version an earlier request with this idempotency key registered, if any. A key
    already spent on another model or another source is a conflict, not a replay."""
    row = conn.execute(
        select(model_versions).where(model_versions.c.request_id == spec.request_id)
    ).first()
    if row is None:
        return None
    if row.model != name:
        raise Conflict(
            f"request_id {spec.request_id!r} already registered a version of model {row.model!r}",
            [FieldError("request_id", "already used for another model")],
        )
    if parse_run_source(spec.source) != (row.run_id, row.artifact_path):
        raise Conflict(
            f"request_id {spec.request_id!r} already registered {name} v{row.version} "
            f"from runs:/{row.run_id}/{row.artifact_path}",
            [FieldError("request_id", "already used for another source")],
        )
    return sql_rows.load_versions(conn, [row])[0]


def checked_model_name(name: str) -> str:
    try:
        return _MODEL_NAME.validate_python(name)
    except ValidationError as exc:
        raise InvalidArgument.for_field("name", exc.errors()[0]["msg"]) from None


class SqlRegistryStore:
    """Implements ``RegistryStore`` on a ``Database``, writing on behalf of ``actor``; runs
    and their logged models are read through ``sources`` (the tracking service and the
    run artifact store)."""

    def __init__(self, database: Database, actor: str, sources: SourceReader) -> None:
        self.database = database
        self.actor = actor
        self.sources = sources

    # models -----------------------------------------------------------------------------

    def create_model(self, spec: RegisteredModelCreate) -> RegisteredModel:
        projects = {p.name for p in self.sources.tracking.store.list_projects()}
        if spec.project not in projects:
            raise NotFound(f"project {spec.project!r} does not exist")
        now = now_ms()
        with self.database.write() as conn:
            taken = conn.execute(
                select(registered_models.c.name).where(registered_models.c.name == spec.name)
            ).first()
            if taken:
                raise AlreadyExists(f"model {spec.name!r} already exists")
            row = self._model_row(spec.name, spec.project, now, spec.description)
            conn.execute(registered_models.insert(), row)
            self._write_tags(conn, spec.name, spec.tags)
        return self.get_model(spec.name)

    def _model_row(
        self, name: str, project: str, now: int, description: str = ""
    ) -> dict[str, object]:
        return {
            "name": name,
            "project": project,
            "description": description,
            "owner": self.actor,
            "created_by": self.actor,
            "created_at": now,
            "updated_at": now,
            "version_counter": 0,
        }

    @staticmethod
    def _write_tags(conn: Connection, name: str, tags: dict[str, str]) -> None:
        if tags:
            conn.execute(
                registered_model_tags.insert(),
                [{"model": name, "key": k, "value": v} for k, v in tags.items()],
            )

    def get_model(self, name: str) -> RegisteredModel:
        with self.database.read() as conn:
            return sql_rows.load_models(conn, [sql_rows.get_model_row(conn, name)])[0]

    def list_models(
        self,
        project: str | None = None,
        name_like: str | None = None,
        max_results: int = 100,
        page_token: str | None = None,
    ) -> Page[RegisteredModel]:
        offset = decode_page_token(page_token)
        statement = select(registered_models)
        if project is not None:
            statement = statement.where(registered_models.c.project == project)
        if name_like:
            statement = statement.where(
                func.lower(registered_models.c.name).contains(name_like.lower(), autoescape=True)
            )
        statement = statement.order_by(registered_models.c.name)
        with self.database.read() as conn:
            rows = conn.execute(statement.limit(max_results + 1).offset(offset)).all()
            items = sql_rows.load_models(conn, rows[:max_results])
        token = encode_page_token(offset + max_results) if len(rows) > max_results else None
        return Page[RegisteredModel](items=items, next_page_token=token)

    def update_model(self, name: str, update_spec: RegisteredModelUpdate) -> RegisteredModel:
        with self.database.write() as conn:
            sql_rows.get_model_row(conn, name)
            values: dict[str, object] = {"updated_at": now_ms()}
            if update_spec.description is not None:
                values["description"] = update_spec.description
            conn.execute(
                update(registered_models).where(registered_models.c.name == name).values(values)
            )
            if update_spec.tags is not None:
                conn.execute(
                    delete(registered_model_tags).where(registered_model_tags.c.model == name)
                )
                self._write_tags(conn, name, update_spec.tags)
        return self.get_model(name)

    # versions ---------------------------------------------------------------------------

    def create_version(self, name: str, spec: ModelVersionCreate) -> ModelVersion:
        name = checked_model_name(name)
        if spec.request_id is not None:
            with self.database.read() as conn:
                earlier = _registered_by(conn, name, spec)
            if earlier is not None:
                return earlier
        snapshot = self.sources.snapshot(spec.source)  # before the write: may read a blob
        try:
            return self._insert_version(name, spec, snapshot)
        except IntegrityError:
            if spec.request_id is None:
                raise
            with self.database.read() as conn:  # a concurrent retry with the same key won
                earlier = _registered_by(conn, name, spec)
            if earlier is None:
                raise
            return earlier

    def _insert_version(
        self, name: str, spec: ModelVersionCreate, snapshot: VersionSnapshot
    ) -> ModelVersion:
        now = now_ms()
        with self.database.write() as conn:
            if spec.request_id is not None:  # a retry that raced the first attempt's write
                earlier = _registered_by(conn, name, spec)
                if earlier is not None:
                    return earlier
            conn.execute(
                insert_ignoring_conflicts(self.database, registered_models),
                self._model_row(name, snapshot.project, now),
            )
            number = conn.execute(_NEXT_VERSION, {"b_name": name, "b_now": now}).scalar_one()
            version = ModelVersion(
                name=name,
                version=number,
                source_uri=f"runs:/{snapshot.run_id}/{snapshot.artifact_path}",
                description=spec.description,
                created_by=self.actor,
                created_at=now,
                **snapshot.model_dump(exclude={"project"}),
            )
            conn.execute(
                _INSERT_VERSION, {**sql_rows.version_row(version), "request_id": spec.request_id}
            )
            freeze(  # a version never changes: nor may the run files it is read from
                self.database,
                conn,
                snapshot.run_id,
                snapshot.artifact_path,
                f"model {name} version {number}",
                read_file=f"{snapshot.artifact_path}/{MANIFEST_FILE}",
                read_digest=snapshot.digest,
            )
            if version.inputs:
                conn.execute(_INSERT_INPUT, sql_rows.input_rows(version))
            sql_events.record_event(
                conn,
                EventType.VERSION_CREATED,
                model=name,
                subject=version.uri,
                data_json=version.model_dump_json(),
                actor=self.actor,
                now=now,
            )
        return version

    def get_version(self, name: str, version: int) -> ModelVersion:
        with self.database.read() as conn:
            return sql_rows.get_version(conn, name, version)

    def get_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        with self.database.read() as conn:
            version = sql_rows.holder_of(conn, name, alias)
            if version is None:
                sql_rows.get_model_row(conn, name)
                raise NotFound(f"model {name!r} has no alias @{alias}")
            return sql_rows.get_version(conn, name, version)

    def list_versions(
        self, name: str, max_results: int = 100, page_token: str | None = None
    ) -> Page[ModelVersion]:
        offset = decode_page_token(page_token)
        with self.database.read() as conn:
            sql_rows.get_model_row(conn, name)
            rows = conn.execute(
                select(model_versions)
                .where(model_versions.c.model == name)
                .order_by(model_versions.c.version.desc())
                .limit(max_results + 1)
                .offset(offset)
            ).all()
            items = sql_rows.load_versions(conn, rows[:max_results])
        token = encode_page_token(offset + max_results) if len(rows) > max_results else None
        return Page[ModelVersion](items=items, next_page_token=token)

    def update_version(
        self, name: str, version: int, update_spec: ModelVersionUpdate
    ) -> ModelVersion:
        values = {
            k: v.value if isinstance(v, VersionStatus) else v
            for k, v in update_spec.model_dump(exclude_none=True).items()
        }
        with self.database.write() as conn:
            sql_rows.get_version(conn, name, version)
            if values:
                conn.execute(
                    update(model_versions)
                    .where(model_versions.c.model == name, model_versions.c.version == version)
                    .values(values)
                )
            return sql_rows.get_version(conn, name, version)

    # aliases and promotion --------------------------------------------------------------

    def list_aliases(self, name: str) -> list[Alias]:
        with self.database.read() as conn:
            sql_rows.get_model_row(conn, name)
            rows = conn.execute(
                select(model_aliases)
                .where(model_aliases.c.model == name)
                .order_by(model_aliases.c.alias)
            ).all()
        return [sql_rows.alias_from_row(row) for row in rows]

    def alias_history(
        self, name: str, alias: str | None = None, max_results: int = 100
    ) -> list[AliasMove]:
        statement = select(alias_moves).where(alias_moves.c.model == name)
        if alias is not None:
            statement = statement.where(alias_moves.c.alias == alias)
        statement = statement.order_by(alias_moves.c.at.desc(), alias_moves.c.seq.desc())
        with self.database.read() as conn:
            sql_rows.get_model_row(conn, name)
            rows = conn.execute(statement.limit(max_results)).all()
        return [sql_rows.move_from_row(row) for row in rows]

    def promote(self, name: str, spec: PromotionCreate) -> PromotionResult:
        return sql_promotion.promote(self.database, self.actor, name, spec)

    def rollback(self, name: str, spec: RollbackCreate) -> AliasMove:
        return sql_promotion.rollback(self.database, self.actor, name, spec)

    # gates, approvers, requests ---------------------------------------------------------

    def get_gates(self, name: str) -> ModelGates:
        with self.database.read() as conn:
            sql_rows.get_model_row(conn, name)
            row = conn.execute(select(model_gates).where(model_gates.c.model == name)).first()
        if row is None:
            return ModelGates(name=name)
        return ModelGates(
            name=name,
            gates=GatePolicy.model_validate_json(row.gates_json).gates,
            updated_by=row.updated_by,
            updated_at=row.updated_at,
        )

    def set_gates(self, name: str, policy: GatePolicy) -> ModelGates:
        now = now_ms()
        with self.database.write() as conn:
            sql_rows.get_model_row(conn, name)
            conn.execute(
                upsert(
                    self.database,
                    model_gates,
                    ["model"],
                    ["gates_json", "updated_by", "updated_at"],
                ),
                {
                    "model": name,
                    "gates_json": policy.model_dump_json(),
                    "updated_by": self.actor,
                    "updated_at": now,
                },
            )
        return ModelGates(name=name, gates=policy.gates, updated_by=self.actor, updated_at=now)

    def list_approvers(self, name: str) -> list[Approver]:
        with self.database.read() as conn:
            sql_rows.get_model_row(conn, name)
            rows = conn.execute(
                select(model_approvers)
                .where(model_approvers.c.model == name)
                .order_by(model_approvers.c.user_name, model_approvers.c.role)
            ).all()
        return [sql_rows.approver_from_row(row) for row in rows]

    def add_approver(self, name: str, spec: ApproverCreate) -> Approver:
        with self.database.write() as conn:
            sql_rows.get_model_row(conn, name)
            conn.execute(
                insert_ignoring_conflicts(self.database, model_approvers),
                {
                    "model": name,
                    "user_name": spec.user,
                    "role": spec.role,
                    "added_by": self.actor,
                    "added_at": now_ms(),
                },
            )
        return next(
            a for a in self.list_approvers(name) if (a.user, a.role) == (spec.user, spec.role)
        )

    def remove_approver(self, name: str, user: str, role: str) -> None:
        with self.database.write() as conn:
            sql_rows.get_model_row(conn, name)
            removed = conn.execute(
                delete(model_approvers).where(
                    model_approvers.c.model == name,
                    model_approvers.c.user_name == user,
                    model_approvers.c.role == role,
                )
            ).rowcount
        if not removed:
            raise NotFound(f"{user!r} holds no role {role!r} for model {name!r}")

    def list_requests(
        self, name: str, status: RequestStatus | None = None, max_results: int = 100
    ) -> list[PromotionRequest]:
        statement = select(promotion_requests).where(promotion_requests.c.model == name)
        if status is not None:
            statement = statement.where(promotion_requests.c.status == status.value)
        statement = statement.order_by(
            promotion_requests.c.created_at.desc(), promotion_requests.c.id
        )
        with self.database.read() as conn:
            sql_rows.get_model_row(conn, name)
            return sql_rows.load_requests(conn, conn.execute(statement.limit(max_results)).all())

    def get_request(self, request_id: str) -> PromotionRequest:
        with self.database.read() as conn:
            return sql_rows.get_request(conn, request_id)

    def decide(self, request_id: str, decision: Decision, spec: DecisionCreate) -> PromotionResult:
        return sql_promotion.decide(self.database, self.actor, request_id, decision, spec)

    # lineage ----------------------------------------------------------------------------

    def lineage(self, uri: str, direction: Direction, depth: int) -> LineageGraph:
        return walk(SqlLineageReader(self.database, self.sources), uri, direction, depth)

    # webhooks ---------------------------------------------------------------------------

    def create_webhook(self, spec: WebhookCreate) -> Webhook:
        with self.database.write() as conn:
            return sql_events.create_webhook(conn, spec, self.actor, now_ms())

    def list_webhooks(self) -> list[Webhook]:
        with self.database.read() as conn:
            return sql_events.list_webhooks(conn)

    def get_webhook(self, webhook_id: str) -> Webhook:
        with self.database.read() as conn:
            return sql_events.get_webhook(conn, webhook_id)

    def delete_webhook(self, webhook_id: str) -> None:
        with self.database.write() as conn:
            sql_events.delete_webhook(conn, webhook_id)

    def list_deliveries(self, webhook_id: str, max_results: int = 100) -> list[Delivery]:
        with self.database.read() as conn:
            return sql_events.list_deliveries(conn, webhook_id, max_results)
