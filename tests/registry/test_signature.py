"""Signatures are inferred from examples and enforced with errors that name the field."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from plinth.entities.models import ColumnSpec, Signature
from plinth.errors import InvalidArgument
from plinth.registry.signature import enforce, infer_signature, is_tabular, type_name

FRAME = pd.DataFrame(
    {
        "age": [31, 45],
        "income": [1.5, 2.5],
        "city": ["Oslo", "Lima"],
        "member": [True, False],
    }
)


def test_a_dataframe_gives_named_typed_columns() -> None:
    signature = infer_signature(FRAME)
    assert [(c.name, c.type, c.shape) for c in signature.inputs] == [
        ("age", "int64", None),
        ("income", "float64", None),
        ("city", "str", None),
        ("member", "bool", None),
    ]
    assert is_tabular(signature)


def test_an_array_gives_a_tensor_of_any_rows() -> None:
    signature = infer_signature(np.zeros((5, 3, 2), dtype=np.float32), np.zeros(5))
    assert signature.inputs == [ColumnSpec(type="float32", shape=[-1, 3, 2])]
    assert signature.outputs == [ColumnSpec(type="float64", shape=[-1])]
    assert not is_tabular(signature)


def test_dicts_and_records_give_columns_or_named_tensors() -> None:
    row = infer_signature({"a": 1.0, "b": "x"})
    assert [(c.name, c.type) for c in row.inputs] == [("a", "float64"), ("b", "str")]
    records = infer_signature([{"a": 1, "b": "x"}, {"a": 2, "b": "y"}])
    assert [(c.name, c.type) for c in records.inputs] == [("a", "int64"), ("b", "str")]
    tensors = infer_signature({"image": np.zeros((2, 4, 4)), "mask": np.ones((2, 4), dtype=bool)})
    assert tensors.inputs == [
        ColumnSpec(name="image", type="float64", shape=[-1, 4, 4]),
        ColumnSpec(name="mask", type="bool", shape=[-1, 4]),
    ]


def test_object_columns_of_strings_are_str() -> None:
    assert type_name(np.dtype(object), np.array(["a", "b"], dtype=object)) == "str"
    assert type_name(pd.StringDtype()) == "str"
    assert type_name(np.dtype("<U3")) == "str"
    assert type_name(pd.Int64Dtype()) == "int64"


def test_columns_are_selected_ordered_and_widened() -> None:
    signature = infer_signature(FRAME)
    given = FRAME[["member", "city", "income", "age"]].assign(extra=1, income=[3, 4])
    prepared = enforce(signature, given)
    assert list(prepared.columns) == ["age", "income", "city", "member"]
    assert prepared["income"].dtype == np.float64  # an int column widens to the float it wants


def test_a_missing_column_is_named() -> None:
    with pytest.raises(InvalidArgument) as caught:
        enforce(infer_signature(FRAME), FRAME.drop(columns=["city", "age"]))
    assert {e.field for e in caught.value.errors} == {"inputs.age", "inputs.city"}
    assert all(e.message == "missing column" for e in caught.value.errors)


def test_a_wrong_type_is_named_with_what_was_expected() -> None:
    bad = FRAME.assign(income=["a lot", "none"], age=[1.5, 2.0])
    with pytest.raises(InvalidArgument) as caught:
        enforce(infer_signature(FRAME), bad)
    messages = {e.field: e.message for e in caught.value.errors}
    assert messages["inputs.income"] == "expected float64, got str (e.g. 'a lot')"
    assert messages["inputs.age"].startswith("expected int64, got float64")


def test_optional_columns_may_be_absent() -> None:
    signature = Signature(
        inputs=[
            ColumnSpec(name="x", type="float64"),
            ColumnSpec(name="y", type="str", optional=True),
        ]
    )
    assert list(enforce(signature, {"x": [1.0, 2.0]}).columns) == ["x"]


def test_dicts_records_and_positional_arrays_become_frames() -> None:
    signature = Signature(
        inputs=[ColumnSpec(name="x", type="float64"), ColumnSpec(name="y", type="float64")]
    )
    assert enforce(signature, {"x": 1.0, "y": 2.0}).shape == (1, 2)
    assert enforce(signature, {"x": [1.0, 2.0], "y": [3.0, 4.0]}).shape == (2, 2)
    assert enforce(signature, [{"x": 1, "y": 2}]).to_numpy().tolist() == [[1.0, 2.0]]
    assert enforce(signature, np.ones((3, 2))).shape == (3, 2)
    with pytest.raises(InvalidArgument, match="takes columns x, y"):
        enforce(signature, np.ones((3, 5)))


def test_tensor_shape_and_type_are_checked() -> None:
    signature = infer_signature(np.zeros((2, 4), dtype=np.float32))
    assert enforce(signature, np.ones((7, 4))).dtype == np.float32
    assert enforce(signature, [[1, 2, 3, 4]]).shape == (1, 4)
    with pytest.raises(InvalidArgument) as caught:
        enforce(signature, np.ones((7, 3)))
    assert caught.value.errors[0].field == "inputs"
    assert caught.value.errors[0].message == "expected shape (any, 4), got (7, 3)"
    with pytest.raises(InvalidArgument, match="expected float32, got str"):
        enforce(signature, np.array([["a", "b", "c", "d"]]))


def test_several_tensors_come_as_a_dict() -> None:
    signature = infer_signature({"image": np.zeros((2, 4, 4)), "mask": np.ones((2, 4))})
    prepared = enforce(signature, {"image": np.ones((1, 4, 4)), "mask": np.ones((1, 4))})
    assert set(prepared) == {"image", "mask"}
    with pytest.raises(InvalidArgument) as caught:
        enforce(signature, {"image": np.ones((1, 4, 4))})
    assert caught.value.errors[0].field == "inputs.mask"


def test_columns_named_by_numbers_match_their_text() -> None:
    frame = pd.DataFrame(np.ones((2, 3)))
    signature = infer_signature(frame)
    assert [c.name for c in signature.inputs] == ["0", "1", "2"]
    assert enforce(signature, frame).shape == (2, 3)
