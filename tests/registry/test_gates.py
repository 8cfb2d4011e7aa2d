"""Promotion gates as data: the text and YAML forms, and their evaluation (pure, no I/O)."""

from __future__ import annotations

import pytest
import yaml

from plinth.entities.models import ColumnSpec, ScanStatus, Signature
from plinth.entities.registry import (
    Approval,
    ApprovalsGate,
    BeatsHolderGate,
    Decision,
    GatePolicy,
    MetricGate,
    ModelVersion,
    ScanGate,
    SignatureGate,
    VersionInput,
)
from plinth.errors import InvalidArgument
from plinth.registry.gates import (
    PromotionContext,
    describe,
    evaluate,
    parse_gate,
    parse_policy,
    signature_problems,
)

SIG = Signature(
    inputs=[ColumnSpec(name="x", type="float64"), ColumnSpec(name="y", type="float64")],
    outputs=[ColumnSpec(type="int64", shape=[-1])],
)


def version(
    number: int,
    metrics: dict[str, float] | None = None,
    *,
    evaluated_on: str | None = "eval-1",
    signature: Signature | None = SIG,
    scan: ScanStatus = ScanStatus.CLEAN,
) -> ModelVersion:
    inputs = [VersionInput(project="default", name="train", digest="t", context="training")]
    if evaluated_on:
        inputs.append(
            VersionInput(project="default", name="eval", digest=evaluated_on, context="evaluation")
        )
    return ModelVersion(
        name="iris",
        version=number,
        source_uri="runs:/" + "0" * 32 + "/model",
        run_id="0" * 32,
        artifact_path="model",
        digest="d",
        flavor="sklearn",
        format="skops",
        signature=signature,
        scan=scan,
        metrics=metrics or {},
        inputs=inputs,
        created_by="ada",
        created_at=1,
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("accuracy >= 0.9", MetricGate(metric="accuracy", op=">=", value=0.9)),
        ("val loss<0.2", MetricGate(metric="val loss", op="<", value=0.2)),
        ("beats accuracy", BeatsHolderGate(metric="accuracy")),
        ("beats accuracy by 0.01", BeatsHolderGate(metric="accuracy", margin=0.01)),
        (
            "beats loss by 0.05 lower is better on any dataset",
            BeatsHolderGate(metric="loss", margin=0.05, higher_is_better=False, same_dataset=False),
        ),
        ("signature compatible", SignatureGate()),
        ("scan clean", ScanGate()),
        ("2 approvals from ml-lead", ApprovalsGate(count=2, role="ml-lead")),
        ("1 approval from sre", ApprovalsGate(count=1, role="sre")),
        (
            "accuracy >= 0.95 for champion, prod",
            MetricGate(metric="accuracy", op=">=", value=0.95, aliases=["champion", "prod"]),
        ),
    ],
)
def test_text_form_parses_and_round_trips(text: str, expected: object) -> None:
    gate = parse_gate(text)
    assert gate == expected
    assert parse_gate(describe(gate)) == gate


@pytest.mark.parametrize(
    "text",
    ["accuracy", "accuracy >= lots", "beats", "0 approvals from x", "scan dirty", "a >= nan"],
)
def test_unreadable_gates_are_invalid_arguments(text: str) -> None:
    with pytest.raises(InvalidArgument):
        parse_gate(text)


def test_a_yaml_document_mixes_text_and_mappings() -> None:
    document = yaml.safe_load(
        """
gates:
  - accuracy >= 0.9
  - gate: beats accuracy by 0.01
    aliases: [champion]
  - kind: approvals
    count: 2
    role: ml-lead
  - signature compatible
"""
    )
    policy = parse_policy(document)
    assert [describe(g) for g in policy.gates] == [
        "accuracy >= 0.9",
        "beats accuracy by 0.01 for champion",
        "2 approvals from ml-lead",
        "signature compatible",
    ]
    assert GatePolicy.model_validate_json(policy.model_dump_json()) == policy
    for bad in ({"rules": []}, "accuracy >= 0.9", [{"kind": "telepathy"}], [42]):
        with pytest.raises(InvalidArgument):
            parse_policy(bad)


def evaluated(
    gate_text: str, candidate: ModelVersion, holder: ModelVersion | None
) -> tuple[bool, str]:
    [result] = evaluate([parse_gate(gate_text)], PromotionContext("champion", candidate, holder))
    return result.passed, result.reason


def test_metric_thresholds() -> None:
    assert evaluated("accuracy >= 0.9", version(2, {"accuracy": 0.9}), None)[0]
    passed, reason = evaluated("accuracy >= 0.9", version(2, {"accuracy": 0.85}), None)
    assert not passed
    assert "0.85" in reason
    assert not evaluated("accuracy >= 0.9", version(2, {}), None)[0]
    assert not evaluated("accuracy >= 0.9", version(2, {"accuracy": float("nan")}), None)[0]
    assert evaluated("loss < 0.3", version(2, {"loss": 0.2}), None)[0]


def test_beating_the_holder_on_the_same_evaluation_data() -> None:
    holder = version(1, {"accuracy": 0.90, "loss": 0.30})
    assert evaluated("beats accuracy by 0.01", version(2, {"accuracy": 0.95}), None) == (
        True,
        "no version holds @champion yet",
    )
    assert evaluated("beats accuracy by 0.01", version(2, {"accuracy": 0.95}), holder)[0]
    assert not evaluated("beats accuracy by 0.1", version(2, {"accuracy": 0.95}), holder)[0]
    assert not evaluated("beats accuracy", version(2, {"accuracy": 0.90}), holder)[0]  # a tie
    assert evaluated("beats loss lower is better", version(2, {"loss": 0.2}), holder)[0]
    other_data = version(2, {"accuracy": 0.99}, evaluated_on="eval-2")
    passed, reason = evaluated("beats accuracy", other_data, holder)
    assert not passed
    assert "share no data set" in reason
    assert evaluated("beats accuracy on any dataset", other_data, holder)[0]
    assert not evaluated("beats f1", version(2, {"f1": 0.9}), holder)[0]  # holder lacks it


def test_signature_compatibility() -> None:
    holder = version(1)
    assert evaluated("signature compatible", version(2), holder)[0]
    wider = Signature(
        inputs=[*SIG.inputs, ColumnSpec(name="z", type="float64", optional=True)],
        outputs=SIG.outputs,
    )
    assert evaluated("signature compatible", version(2, signature=wider), holder)[0]
    assert not evaluated("signature compatible", version(2, signature=None), holder)[0]
    assert evaluated(
        "signature compatible", version(2, signature=None), version(1, signature=None)
    )[0]
    required = Signature(
        inputs=[*SIG.inputs, ColumnSpec(name="z", type="float64")], outputs=SIG.outputs
    )
    assert signature_problems(required, SIG) == ["input 'z' is new and required"]
    retyped = Signature(
        inputs=[ColumnSpec(name="x", type="int64"), SIG.inputs[1]], outputs=SIG.outputs
    )
    assert signature_problems(retyped, SIG) == ["input 'x': type int64 where it was float64"]
    no_output = Signature(inputs=SIG.inputs, outputs=[])
    assert signature_problems(no_output, SIG) == ["output #0 is gone"]
    reshaped = Signature(inputs=SIG.inputs, outputs=[ColumnSpec(type="int64", shape=[-1, 2])])
    assert "shape" in signature_problems(reshaped, SIG)[0]


def test_scan_clean() -> None:
    for status, passes in (
        (ScanStatus.CLEAN, True),
        (ScanStatus.NOT_NEEDED, True),
        (ScanStatus.NOT_SCANNED, False),
        (ScanStatus.UNSAFE, False),
    ):
        assert evaluated("scan clean", version(2, scan=status), None)[0] is passes


def test_approvals_count_distinct_users_holding_the_role() -> None:
    gate = parse_gate("2 approvals from ml-lead")
    roles = {"ada": {"ml-lead"}, "bob": {"ml-lead"}, "eve": {"intern"}}

    def approval(actor: str, decision: Decision = Decision.APPROVE) -> Approval:
        return Approval(actor=actor, decision=decision, at=1)

    def check(approvals: list[Approval]) -> tuple[bool, str]:
        context = PromotionContext("champion", version(2), None, approvals, roles)
        [result] = evaluate([gate], context)
        return result.passed, result.reason

    assert check([]) == (False, "0 of 2 approvals from role 'ml-lead'")
    assert not check([approval("ada"), approval("eve")])[0]
    assert not check([approval("ada"), approval("bob", Decision.REJECT)])[0]
    assert check([approval("ada"), approval("bob")]) == (
        True,
        "2 of 2 approvals from role 'ml-lead' (ada, bob)",
    )


def test_gates_can_guard_some_aliases_only() -> None:
    policy = parse_policy(["accuracy >= 0.99 for champion", "scan clean"])
    candidate = version(2, {"accuracy": 0.9})
    staging = evaluate(policy.gates, PromotionContext("staging", candidate, None))
    assert [r.gate for r in staging] == ["scan clean"]
    champion = evaluate(policy.gates, PromotionContext("champion", candidate, None))
    assert [r.passed for r in champion] == [False, True]
