"""Fixtures shared by the registry tests: ``sdk`` (from tests/sdk) points the fluent API at
a fresh local data dir or a threaded server."""

from __future__ import annotations

from tests.sdk.conftest import sdk

__all__ = ["sdk"]
