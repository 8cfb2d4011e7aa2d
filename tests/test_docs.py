"""The README documents every setting, limit, plugin group, CLI command and API route
(Datasette's habit: an undocumented setting fails the build)."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pytest
import typer.main

from plinth.cli.main import app as cli_app
from plinth.config import Settings
from plinth.entities import limits
from plinth.plugins import GROUPS

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


@pytest.mark.parametrize("name", sorted(Settings.model_fields))
def test_every_setting_is_documented(name: str) -> None:
    assert f"`PLINTH_{name.upper()}`" in README


@pytest.mark.parametrize("name", [n for n in dir(limits) if n.startswith("MAX_")])
def test_every_limit_is_documented(name: str) -> None:
    assert f"`{name}`" in README


@pytest.mark.parametrize("group", sorted(GROUPS))
def test_every_plugin_group_is_documented(group: str) -> None:
    assert f"`{group}`" in README


def _commands() -> list[str]:
    root = typer.main.get_command(cli_app)
    found = []
    for name, command in root.commands.items():  # type: ignore[attr-defined]
        sub = getattr(command, "commands", None)
        if sub:
            found += [f"{name} {child}" for child in sub]
        else:
            found.append(name)
    return sorted(found)


@pytest.mark.parametrize("command", _commands())
def test_every_cli_command_is_documented(command: str) -> None:
    group, _, child = command.partition(" ")
    pattern = rf"plinth {re.escape(group)}\b[^\n]*" + (rf"\b{re.escape(child)}\b" if child else "")
    lines = README.split("## CLI", 1)[1].split("## HTTP API", 1)[0]
    # sub-commands are listed as "plinth runs list | show ..." and continuation lines
    block = lines.replace("\n            |", " |").replace("\n              [", " [")
    assert re.search(pattern, block), f"`plinth {command}` is not in the README's CLI section"


def _routes() -> list[str]:
    from plinth.server.app import create_app

    app = create_app(Settings(data_dir=Path(tempfile.mkdtemp())))
    return sorted(app.openapi()["paths"])


@pytest.mark.parametrize("path", _routes())
def test_every_route_is_documented(path: str) -> None:
    section = README.split("## HTTP API", 1)[1].split("## Limits", 1)[0]
    shown = path.replace("/api/v1", "")
    assert path in section or shown in section, f"{path} is not in the README's API table"
