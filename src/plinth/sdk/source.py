"""Where a run's code came from: script path, git commit, branch and dirty flag."""

from __future__ import annotations

import getpass
import os
import subprocess
import sys
from functools import cache
from pathlib import Path

from plinth.entities.tracking import RunSource


@cache
def current_user() -> str | None:
    try:
        return getpass.getuser()
    except Exception:  # no user database entry in some containers
        return None


@cache
def current_source() -> RunSource:
    """Computed once per process: the script rarely changes commit while it runs."""
    script = os.path.abspath(sys.argv[0]) if sys.argv and sys.argv[0] else None
    folder = Path(script).parent if script and os.path.exists(script) else Path.cwd()
    commit = _git(folder, "rev-parse", "HEAD")
    if commit is None:
        return RunSource(script=script)
    status = _git(folder, "status", "--porcelain", "--untracked-files=no")
    return RunSource(
        script=script,
        git_commit=commit,
        git_dirty=bool(status),
        git_branch=_git(folder, "rev-parse", "--abbrev-ref", "HEAD"),
    )


def _git(folder: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", "-C", str(folder), *args],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None
