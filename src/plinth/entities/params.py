"""Params keep their type: each value is stored as text plus a type tag, and read back as
the same Python value. Numbers also get a numeric column so filters can compare them."""

from __future__ import annotations

import math
from typing import Any, Literal

import orjson

ParamType = Literal["str", "int", "float", "bool", "null", "json"]


def encode_param(value: Any) -> tuple[str, ParamType]:
    """The stored text and type tag of a param value."""
    if isinstance(value, bool):
        return ("true" if value else "false"), "bool"
    if isinstance(value, int):
        return str(value), "int"
    if isinstance(value, float):
        return repr(value), "float"
    if isinstance(value, str):
        return value, "str"
    if value is None:
        return "", "null"
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode(), "json"


def decode_param(text: str, param_type: str) -> Any:
    """The Python value of a stored param."""
    if param_type == "str":
        return text
    if param_type == "int":
        return int(text)
    if param_type == "float":
        return float(text)
    if param_type == "bool":
        return text == "true"
    if param_type == "null":
        return None
    return orjson.loads(text)


def numeric_value(value: Any) -> float | None:
    """The number a filter compares for int and float params (finite ones only)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:  # an int beyond the range of a float
        return None
    return number if math.isfinite(number) else None


def same_param(a: Any, b: Any) -> bool:
    """Whether two logged values are the same param value (NaN equals NaN, 1 is not 1.0)."""
    return encode_param(a) == encode_param(b)
