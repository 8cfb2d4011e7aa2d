"""Promotion gates: parsed from text or YAML, described back as text, and evaluated against
a candidate version, the alias's current holder and a request's approvals.

Gates are data (``entities.registry.GatePolicy``, stored per model). The text form, one
gate a line, is what the CLI's ``--gate`` and a YAML gates file take::

    accuracy >= 0.9
    beats accuracy by 0.01            # strictly better than the holder, by at least 0.01
    beats loss by 0.05 lower is better on any dataset
    signature compatible
    scan clean
    2 approvals from ml-lead
    accuracy >= 0.95 for champion     # only when promoting to these aliases

Evaluation is pure: no I/O, so the SQL store runs it between its reads and its write.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import TypeAdapter, ValidationError

from plinth.entities.models import ColumnSpec, ScanStatus, Signature
from plinth.entities.registry import (
    Approval,
    ApprovalsGate,
    BeatsHolderGate,
    Decision,
    Gate,
    GatePolicy,
    GateResult,
    MetricGate,
    ModelVersion,
    ScanGate,
    SignatureGate,
)
from plinth.errors import FieldError, InvalidArgument

EVALUATION_CONTEXT = "evaluation"
"""The input context that names the data set a version was evaluated on."""

_OPS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
    "==": operator.eq,
    "!=": operator.ne,
}
_ALIAS_LIST = r"[A-Za-z][\w\-]*(?:\s*,\s*[A-Za-z][\w\-]*)*"
_FOR = re.compile(rf"^(?P<gate>.*?)\s+for\s+(?P<aliases>{_ALIAS_LIST})$")
_METRIC = re.compile(r"^(?P<metric>.+?)\s*(?P<op>>=|<=|==|!=|>|<)\s*(?P<value>\S+)$")
_APPROVALS = re.compile(r"^(?P<count>\d+)\s+approvals?\s+from\s+(?P<role>\S+)$")
_GATE_ADAPTER: TypeAdapter[Gate] = TypeAdapter(Gate)


def parse_gate(text: str) -> Gate:
    """One gate from its text form (see the module docstring)."""
    source = " ".join(text.split())
    aliases: list[str] = []
    scoped = _FOR.match(source)
    if scoped:
        source = scoped["gate"]
        aliases = [a.strip() for a in scoped["aliases"].split(",")]
    fields: dict[str, Any] = {"aliases": aliases}
    lowered = source.lower()
    if lowered == "signature compatible":
        fields["kind"] = "signature_compatible"
    elif lowered == "scan clean":
        fields["kind"] = "scan_clean"
    elif lowered.startswith("beats "):
        fields.update(_parse_beats(source[len("beats ") :]))
    elif match := _APPROVALS.match(source):
        fields.update(kind="approvals", count=int(match["count"]), role=match["role"])
    elif match := _METRIC.match(source):
        fields.update(kind="metric", metric=match["metric"], op=match["op"], value=match["value"])
    else:
        raise InvalidArgument.for_field(
            "gates",
            f"cannot read gate {text!r}: try 'accuracy >= 0.9', 'beats accuracy by 0.01', "
            "'signature compatible', 'scan clean' or '2 approvals from ml-lead'",
        )
    return _validated(fields, text)


def _parse_beats(rest: str) -> dict[str, Any]:
    fields: dict[str, Any] = {"kind": "beats_holder"}
    for suffix, key, value in (
        (" on any dataset", "same_dataset", False),
        (" lower is better", "higher_is_better", False),
        (" on any dataset", "same_dataset", False),
    ):
        if rest.lower().endswith(suffix):
            rest = rest[: -len(suffix)]
            fields[key] = value
    metric, _, margin = rest.partition(" by ")
    fields["metric"] = metric.strip()
    if margin:
        fields["margin"] = margin.strip()
    return fields


def _validated(fields: Mapping[str, Any], text: str) -> Gate:
    try:
        return _GATE_ADAPTER.validate_python(dict(fields))
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'][1:]) or 'gate'}: {e['msg']}"
            for e in exc.errors(include_url=False)
        )
        raise InvalidArgument(
            f"invalid gate {text!r}: {problems}", [FieldError("gates", problems)]
        ) from None


def parse_policy(document: Any) -> GatePolicy:
    """A policy from what code or a YAML file holds: a list (or ``{"gates": [...]}``) whose
    items are gates in text form, ``{"gate": TEXT, "aliases": [...]}``, or full mappings
    with a ``kind``."""
    if isinstance(document, GatePolicy):
        return document
    if isinstance(document, Mapping):
        if set(document) - {"gates"}:
            raise InvalidArgument.for_field("gates", "the document holds only a 'gates' list")
        document = document.get("gates") or []
    if not isinstance(document, list):
        raise InvalidArgument.for_field("gates", "must be a list of gates")
    gates: list[Gate] = []
    for item in document:
        if isinstance(item, str):
            gates.append(parse_gate(item))
        elif isinstance(item, Mapping) and "gate" in item:
            gate = parse_gate(str(item["gate"]))
            extra = {k: v for k, v in item.items() if k != "gate"}
            gates.append(_validated({**gate.model_dump(), **extra}, str(item["gate"])))
        elif isinstance(item, Mapping):
            gates.append(_validated(item, str(dict(item))))
        else:
            gates.append(_validated({"kind": None}, repr(item)))
    try:
        return GatePolicy(gates=gates)
    except ValidationError as exc:
        raise InvalidArgument.for_field("gates", str(exc.errors()[0]["msg"])) from None


def describe(gate: Gate) -> str:
    """The gate's text form (``parse_gate`` reads it back)."""
    text: str
    if isinstance(gate, MetricGate):
        text = f"{gate.metric} {gate.op} {gate.value:g}"
    elif isinstance(gate, BeatsHolderGate):
        text = f"beats {gate.metric}"
        if gate.margin:
            text += f" by {gate.margin:g}"
        if not gate.higher_is_better:
            text += " lower is better"
        if not gate.same_dataset:
            text += " on any dataset"
    elif isinstance(gate, SignatureGate):
        text = "signature compatible"
    elif isinstance(gate, ScanGate):
        text = "scan clean"
    else:
        text = f"{gate.count} approval{'s' if gate.count != 1 else ''} from {gate.role}"
    if gate.aliases:
        text += " for " + ",".join(gate.aliases)
    return text


def applicable(gates: Iterable[Gate], alias: str) -> list[Gate]:
    """The gates that guard ``alias``."""
    return [g for g in gates if not g.aliases or alias in g.aliases]


@dataclass
class PromotionContext:
    """What the gates look at."""

    alias: str
    candidate: ModelVersion
    holder: ModelVersion | None
    approvals: list[Approval] = field(default_factory=list)
    roles: Mapping[str, set[str]] = field(default_factory=dict)
    """user -> roles held for this model."""


def evaluate(gates: Iterable[Gate], context: PromotionContext) -> list[GateResult]:
    """One result per applicable gate, in the policy's order."""
    results = []
    for gate in applicable(gates, context.alias):
        passed, reason = _CHECKS[type(gate)](gate, context)
        results.append(
            GateResult(gate=describe(gate), kind=gate.kind, passed=passed, reason=reason)
        )
    return results


def _label(version: ModelVersion) -> str:
    return f"v{version.version}"


def _metric(version: ModelVersion, key: str) -> float | None:
    value = version.metrics.get(key)
    return None if value is None or math.isnan(value) else value


def _check_metric(gate: Any, context: PromotionContext) -> tuple[bool, str]:
    value = _metric(context.candidate, gate.metric)
    if value is None:
        return False, f"{_label(context.candidate)} has no value for metric {gate.metric!r}"
    passed = _OPS[gate.op](value, gate.value)
    return passed, f"{gate.metric} = {value:g}, needs {gate.op} {gate.value:g}"


def evaluation_digests(version: ModelVersion) -> set[str]:
    return {i.digest for i in version.inputs if i.context == EVALUATION_CONTEXT}


def _check_beats(gate: Any, context: PromotionContext) -> tuple[bool, str]:
    holder, candidate = context.holder, context.candidate
    if holder is None:
        return True, f"no version holds @{context.alias} yet"
    ours, theirs = _metric(candidate, gate.metric), _metric(holder, gate.metric)
    if ours is None or theirs is None:
        missing = _label(candidate) if ours is None else _label(holder)
        return False, f"{missing} has no value for metric {gate.metric!r}"
    if gate.same_dataset:
        shared = evaluation_digests(candidate) & evaluation_digests(holder)
        if not shared:
            return False, (
                f"{_label(candidate)} and {_label(holder)} share no data set logged with "
                f"context {EVALUATION_CONTEXT!r}"
            )
    gain = ours - theirs if gate.higher_is_better else theirs - ours
    passed = gain > 0 and gain >= gate.margin
    return passed, (
        f"{gate.metric}: {_label(candidate)} {ours:g} vs {_label(holder)} {theirs:g} "
        f"({'+' if gain >= 0 else ''}{gain:g}, needs more than 0 and at least {gate.margin:g})"
    )


def _check_signature(_gate: Any, context: PromotionContext) -> tuple[bool, str]:
    holder, candidate = context.holder, context.candidate
    if holder is None:
        return True, f"no version holds @{context.alias} yet"
    if holder.signature is None:
        return True, f"{_label(holder)} has no signature to keep"
    if candidate.signature is None:
        return False, f"{_label(candidate)} has no signature; {_label(holder)} has one"
    problems = signature_problems(candidate.signature, holder.signature)
    if problems:
        return False, "; ".join(problems)
    return True, f"{_label(candidate)} accepts and returns what {_label(holder)} does"


def signature_problems(new: Signature, old: Signature) -> list[str]:
    """Why callers of ``old`` would break on ``new``: a new required input, a changed
    input or output type, a dropped output."""
    problems = []
    old_inputs = _by_key(old.inputs)
    for key, spec in _by_key(new.inputs).items():
        previous = old_inputs.get(key)
        if previous is None:
            if not spec.optional:
                problems.append(f"input {key} is new and required")
        elif mismatch := _mismatch(spec, previous):
            problems.append(f"input {key}: {mismatch}")
    new_outputs = _by_key(new.outputs)
    for key, spec in _by_key(old.outputs).items():
        current = new_outputs.get(key)
        if current is None:
            problems.append(f"output {key} is gone")
        elif mismatch := _mismatch(current, spec):
            problems.append(f"output {key}: {mismatch}")
    return problems


def _by_key(columns: list[ColumnSpec]) -> dict[str, ColumnSpec]:
    return {repr(c.name) if c.name else f"#{i}": c for i, c in enumerate(columns)}


def _mismatch(new: ColumnSpec, old: ColumnSpec) -> str | None:
    if new.type != old.type:
        return f"type {new.type} where it was {old.type}"
    if new.shape is not None and old.shape is not None:
        fits = len(new.shape) == len(old.shape) and all(
            a == b or -1 in (a, b) for a, b in zip(new.shape, old.shape, strict=True)
        )
        if not fits:
            return f"shape {new.shape} where it was {old.shape}"
    return None


def _check_scan(_gate: Any, context: PromotionContext) -> tuple[bool, str]:
    scan = context.candidate.scan
    passed = scan in (ScanStatus.CLEAN, ScanStatus.NOT_NEEDED)
    return passed, f"{_label(context.candidate)} scan: {scan.value}"


def _check_approvals(gate: Any, context: PromotionContext) -> tuple[bool, str]:
    approvers = sorted(
        {
            a.actor
            for a in context.approvals
            if a.decision == Decision.APPROVE and gate.role in context.roles.get(a.actor, set())
        }
    )
    named = f" ({', '.join(approvers)})" if approvers else ""
    return (
        len(approvers) >= gate.count,
        f"{len(approvers)} of {gate.count} approvals from role {gate.role!r}{named}",
    )


_CHECKS: dict[type, Callable[[Any, PromotionContext], tuple[bool, str]]] = {
    MetricGate: _check_metric,
    BeatsHolderGate: _check_beats,
    SignatureGate: _check_signature,
    ScanGate: _check_scan,
    ApprovalsGate: _check_approvals,
}
