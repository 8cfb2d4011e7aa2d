"""The SDK's public surface is exactly ``__all__``, sorted (httpx's habit)."""

from __future__ import annotations

import types

import plinth


def test_all_is_exact_and_sorted() -> None:
    exported = sorted(
        (
            name
            for name, value in vars(plinth).items()
            if (not name.startswith("_") or name == "__version__")
            and not isinstance(value, types.ModuleType)  # subpackages, not API
        ),
        key=str.casefold,
    )
    assert plinth.__all__ == sorted(plinth.__all__, key=str.casefold)
    assert plinth.__all__ == exported


def test_everything_in_all_resolves() -> None:
    for name in plinth.__all__:
        assert getattr(plinth, name) is not None
