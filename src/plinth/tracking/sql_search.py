"""Compile a parsed filter and order-by into a SQLAlchemy Core query over ``runs``.

Metrics filter on their latest value (``metric_series.latest_value``). A metric that both
filters and orders at the top level of a conjunction becomes one inner join, so the planner
can walk the ``(key, latest_value)`` index in order and stop after one page. Everything
else is an EXISTS subquery on an indexed ``(run_id, key)`` primary key. Values are always
bound parameters.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    exists,
    false,
    func,
    not_,
    or_,
    select,
    true,
)
from sqlalchemy.sql.elements import KeyedColumnElement

from plinth.db.tables.tracking import (
    VALUE_INDEX_PREFIX,
    datasets,
    experiments,
    metric_series,
    params,
    run_inputs,
    run_tags,
    runs,
)
from plinth.entities.tracking import RunQuery, ViewType
from plinth.errors import InvalidArgument
from plinth.tracking.search import BoolOp, Comparison, Node, Not, OrderKey, Value

_ATTRIBUTE_COLUMNS: dict[str, KeyedColumnElement[Any]] = {
    "id": runs.c.id,
    "name": runs.c.name,
    "status": runs.c.status,
    "start_time": runs.c.start_time,
    "end_time": runs.c.end_time,
    "user": runs.c.user_name,
    "experiment_id": runs.c.experiment_id,
    "parent_run_id": runs.c.parent_run_id,
    "git_commit": runs.c.git_commit,
}
_NUMERIC_ATTRIBUTES = {"start_time", "end_time"}


def build_search(query: RunQuery, tree: Node | None, order: list[OrderKey]) -> Select[Any]:
    """``SELECT runs.id`` for one page of the query (limit and offset added by the caller)."""
    joined: dict[str, Any] = {}
    statement = select(runs.c.id)
    conditions: list[ColumnElement[bool]] = []

    # Metrics compared at the top level of an AND become inner joins (see module docstring).
    top_level = _top_level_conjuncts(tree)
    remaining: list[Node] = []
    ordered_metrics = {o.key for o in order if o.entity == "metric"}
    for node in top_level:
        if (
            isinstance(node, Comparison)
            and node.entity == "metric"
            and node.op in ("=", "!=", "<", "<=", ">", ">=")
            and node.key in ordered_metrics
            and node.key not in joined
        ):
            alias = metric_series.alias(f"m{len(joined)}")
            joined[node.key] = alias
            statement = statement.join(
                alias, and_(alias.c.run_id == runs.c.id, alias.c.key == node.key)
            )
            conditions.append(_apply(alias.c.latest_value, node.op, (_number(node),)))
        else:
            remaining.append(node)
    conditions.extend(_compile(node) for node in remaining)

    if query.experiment_ids:
        conditions.append(runs.c.experiment_id.in_(query.experiment_ids))
    if query.project:
        project_experiments = select(experiments.c.id).where(experiments.c.project == query.project)
        conditions.append(runs.c.experiment_id.in_(project_experiments))
    if query.view != ViewType.ALL:
        conditions.append(runs.c.lifecycle_stage == query.view.value)

    # An inner-joined metric has no NULLs left, so it sorts plainly: PostgreSQL can then walk
    # its (key, latest_value) index backwards for DESC, which NULLS LAST would forbid.
    filtered = set(joined)
    order_columns: list[Any] = []
    for position, key in enumerate(order):
        if key.entity == "metric" and key.key not in joined:
            alias = metric_series.alias(f"o{position}")
            statement = statement.outerjoin(
                alias, and_(alias.c.run_id == runs.c.id, alias.c.key == key.key)
            )
            joined[key.key] = alias
        for column in _order_columns(key, joined, position):
            ordered = column.desc() if key.descending else column.asc()
            if not (key.entity == "metric" and key.key in filtered):
                ordered = ordered.nulls_last()
            order_columns.append(ordered)
    if not order:
        order_columns.append(runs.c.start_time.desc())
    order_columns.append(runs.c.id.asc())
    return statement.where(and_(true(), *conditions)).order_by(*order_columns)


def _top_level_conjuncts(tree: Node | None) -> list[Node]:
    if tree is None:
        return []
    if isinstance(tree, BoolOp) and tree.op == "and":
        return list(tree.items)
    return [tree]


def _order_columns(key: OrderKey, joined: dict[str, Any], position: int) -> list[Any]:
    """The SQL expressions one order-by clause sorts on."""
    if key.entity == "attribute":
        column = _ATTRIBUTE_COLUMNS.get(key.key)
        if column is None:
            raise InvalidArgument.for_field(f"order_by[{position}]", f"cannot order by {key.key}")
        return [column]
    if key.entity == "metric":
        return [joined[key.key].c.latest_value]
    if key.entity == "dataset":
        raise InvalidArgument.for_field(
            f"order_by[{position}]", "cannot order by a data set (a run may have several)"
        )
    if key.entity == "param":
        # numbers sort numerically first; text params (no number) follow, alphabetically
        keyed = (params.c.run_id == runs.c.id, params.c.key == key.key)
        return [
            select(params.c.value_num).where(*keyed).scalar_subquery(),
            select(params.c.value).where(*keyed).scalar_subquery(),
        ]
    keyed_tag = (run_tags.c.run_id == runs.c.id, run_tags.c.key == key.key)
    return [select(run_tags.c.value).where(*keyed_tag).scalar_subquery()]


def _compile(node: Node) -> ColumnElement[bool]:
    if isinstance(node, BoolOp):
        parts = [_compile(item) for item in node.items]
        return and_(*parts) if node.op == "and" else or_(*parts)
    if isinstance(node, Not):
        return not_(_compile(node.item))
    if node.entity == "attribute":
        return _compile_attribute(node)
    if node.entity == "metric":
        return _compile_keyed(node, metric_series, metric_series.c.latest_value, numeric=True)
    if node.entity == "dataset":
        return _compile_dataset(node)
    table = params if node.entity == "param" else run_tags
    return _compile_keyed(node, table, table.c.value, numeric=False)


def _compile_attribute(node: Comparison) -> ColumnElement[bool]:
    column = _ATTRIBUTE_COLUMNS[node.key]
    if node.op in ("is null", "is not null"):
        return column.is_(None) if node.op == "is null" else column.is_not(None)
    values = _values(node)
    if node.key in _NUMERIC_ATTRIBUTES:
        for value in values:
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise InvalidArgument.for_field("filter", f"{node.key} compares with a number")
    else:
        values = tuple(_as_text(node, v) for v in values)
        if node.key == "status":
            values = tuple(str(v).lower() for v in values)
    return _apply(column, node.op, values)


_DATASET_COLUMNS: dict[str, Any] = {
    "name": datasets.c.name,
    "digest": datasets.c.digest,
    "context": run_inputs.c.context,
}


def _compile_dataset(node: Comparison) -> ColumnElement[bool]:
    """Some input of the run compares true (IS NULL: the run has no input at all)."""
    inputs = exists().where(run_inputs.c.run_id == runs.c.id)
    if node.op in ("is null", "is not null"):
        return not_(inputs) if node.op == "is null" else inputs
    texts = tuple(_as_text(node, v) for v in _values(node))
    return (
        select(run_inputs.c.run_id)
        .join(datasets, datasets.c.id == run_inputs.c.dataset_id)
        .where(
            run_inputs.c.run_id == runs.c.id,
            _apply(_DATASET_COLUMNS[node.key], node.op, texts),
        )
        .exists()
    )


def _compile_keyed(
    node: Comparison, table: Any, value_column: Any, *, numeric: bool
) -> ColumnElement[bool]:
    keyed = and_(table.c.run_id == runs.c.id, table.c.key == node.key)
    if node.op == "is null":
        return not_(exists().where(keyed))
    if node.op == "is not null":
        return exists().where(keyed)
    values = _values(node)
    if numeric:
        condition = _apply(value_column, node.op, tuple(_number(node, v) for v in values))
    elif (
        table is params and all(_is_number(v) for v in values) and node.op not in ("like", "ilike")
    ):
        condition = _apply(params.c.value_num, node.op, tuple(float(v) for v in values))
    else:
        texts = tuple(_as_text(node, v) for v in values)
        condition = _apply(value_column, node.op, texts)
        if node.op in ("=", "in"):  # lets the (key, substr(value)) index serve the lookup
            condition = and_(
                condition,
                func.substr(value_column, 1, VALUE_INDEX_PREFIX).in_(
                    [t[:VALUE_INDEX_PREFIX] for t in texts]
                ),
            )
    return exists().where(keyed, condition)


def _values(node: Comparison) -> tuple[Value, ...]:
    if isinstance(node.value, tuple):
        return node.value
    assert node.value is not None, "only IS [NOT] NULL has no value"
    return (node.value,)


_COMPARISONS: dict[str, Callable[[Any, Any], Any]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "like": lambda column, value: column.like(value),
    "ilike": lambda column, value: func.lower(column).like(func.lower(value)),
}


def _apply(column: Any, op: str, values: tuple[Any, ...]) -> ColumnElement[bool]:
    if op == "in":
        return column.in_(values) if values else false()
    if op == "not in":
        return column.not_in(values) if values else true()
    compare = _COMPARISONS.get(op)
    if compare is None:
        raise InvalidArgument.for_field("filter", f"unsupported operator {op}")
    return cast(ColumnElement[bool], compare(column, values[0]))


def _is_number(value: Value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _number(node: Comparison, value: Value | None = None) -> float:
    chosen = _values(node)[0] if value is None else value
    if not _is_number(chosen):
        raise InvalidArgument.for_field(
            "filter", f"at position {node.position}: metrics.{node.key} compares with a number"
        )
    return float(chosen)


def _as_text(node: Comparison, value: Value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if node.entity == "param":
        return repr(value) if isinstance(value, float) else str(value)
    raise InvalidArgument.for_field(
        "filter", f"at position {node.position}: {node.entity} {node.key} compares with a string"
    )
