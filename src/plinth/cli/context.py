"""What every command shares: settings from the root options, and a platform built once."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NoReturn

import typer
from rich.console import Console

from plinth.config import Settings
from plinth.connect import Platform, connect
from plinth.errors import PlinthError

console = Console()
errors = Console(stderr=True)


@dataclass
class CliState:
    overrides: dict[str, Any] = field(default_factory=dict)
    _platform: Platform | None = None

    @property
    def settings(self) -> Settings:
        return Settings(**self.overrides)

    @property
    def platform(self) -> Platform:
        if self._platform is None:
            self._platform = connect(self.settings)
        return self._platform


def state(ctx: typer.Context) -> CliState:
    root = ctx.find_root()
    if root.obj is None:
        root.obj = CliState()
    assert isinstance(root.obj, CliState)
    return root.obj


def fail(error: PlinthError) -> NoReturn:
    """Print a PlinthError the way a person wants to read it and exit non-zero."""
    errors.print(f"[bold red]error:[/] {error.detail}")
    for item in error.errors:
        errors.print(f"  [red]{item.field}[/]: {item.message}")
    raise typer.Exit(code=2 if error.status < 500 else 1)
