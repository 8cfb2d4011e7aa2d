"""Alembic's head is exactly the tables the code declares, on SQLite and PostgreSQL."""

from __future__ import annotations

import warnings
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from plinth.db.engine import Database
from plinth.db.migrate import current_revision, head_revision, upgrade, upgrade_if_needed
from plinth.db.tables import all_tables


def test_head_matches_the_declared_tables(database_url: str) -> None:
    database = Database(database_url)
    upgrade(database)
    assert current_revision(database) == head_revision()
    with database.engine.connect() as conn, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SQLite cannot reflect expression indexes
        diff = compare_metadata(MigrationContext.configure(conn), all_tables())
    assert diff == []
    database.dispose()


def test_upgrade_is_idempotent_and_downgrade_works(database_url: str) -> None:
    database = Database(database_url)
    upgrade_if_needed(database)
    upgrade_if_needed(database)
    from alembic import command

    from plinth.db.migrate import alembic_config

    command.downgrade(alembic_config(database), "base")
    assert current_revision(database) is None
    upgrade(database)
    assert current_revision(database) == head_revision()
    database.dispose()


def test_processes_starting_together_migrate_once(database_url: str) -> None:
    import subprocess
    import sys

    code = (
        "from plinth.db.engine import Database; "
        "from plinth.db.migrate import upgrade_if_needed; "
        f"upgrade_if_needed(Database({database_url!r}))"
    )
    processes = [
        subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.PIPE) for _ in range(4)
    ]
    failures = [p.communicate(timeout=120)[1].decode()[-300:] for p in processes if p.wait()]
    assert failures == []
    database = Database(database_url)
    assert current_revision(database) == head_revision()
    database.dispose()


def test_the_schema_revision_constant_is_alembics_head() -> None:
    from plinth.db.migrate import SCHEMA_REVISION

    assert head_revision() == SCHEMA_REVISION


def test_0007_freezes_the_paths_of_versions_registered_before_it(
    database_url: str, tmp_path: Path
) -> None:
    from alembic import command
    from sqlalchemy import text

    from plinth.config import Settings
    from plinth.connect import connect
    from plinth.db.migrate import alembic_config
    from tests.registry.logged_models import trained

    platform = connect(Settings(data_dir=tmp_path / "data", database_url=database_url))
    version = platform.registry.register_model(trained(platform, {"accuracy": 0.9}), "iris")
    platform.close()
    database = Database(database_url)
    command.downgrade(alembic_config(database), "0006")  # as if registered before 0007
    command.upgrade(alembic_config(database), "head")
    with database.engine.connect() as conn:
        rows = conn.execute(text("SELECT run_id, path, reason FROM frozen_artifact_paths")).all()
    database.dispose()
    assert [tuple(row) for row in rows] == [(version.run_id, "model", "model iris version 1")]
