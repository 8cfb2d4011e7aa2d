"""SDK tests run the fluent API in local mode on a fresh data dir, or against a server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from plinth.config import Settings
from plinth.sdk import fluent, session
from tests.servers import threaded_plinth


@pytest.fixture(params=["local", "server"])
def sdk(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Points the fluent API at a local data dir or a threaded server; yields the mode."""
    if request.param == "local":
        session.configure(data_dir=tmp_path / "data", system_metrics=False)
        yield "local"
    else:
        with threaded_plinth(Settings(data_dir=tmp_path / "server")) as url:
            session.configure(url=url, data_dir=tmp_path / "client", system_metrics=False)
            yield "server"
            fluent.end_all_runs()
            session.configure()
        return
    fluent.end_all_runs()
    session.configure()
