"""The one rule of dependencies (DESIGN.md): arrows point down only."""

from __future__ import annotations

import ast
from pathlib import Path

SOURCE = Path(__file__).resolve().parents[1] / "src" / "plinth"
FACES = ("plinth.server", "plinth.cli", "plinth.sdk")


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name == "plinth" or name.startswith("plinth.")}


def _modules(folder: str) -> list[Path]:
    return sorted((SOURCE / folder).rglob("*.py"))


def test_entities_import_nothing_above_them() -> None:
    for path in _modules("entities"):
        bad = {m for m in _imports(path) if not m.startswith("plinth.entities")}
        assert not bad, f"{path.name} imports {bad}"


def test_store_protocols_import_only_entities() -> None:
    for path in SOURCE.rglob("store.py"):
        bad = {m for m in _imports(path) if not m.startswith("plinth.entities")}
        assert not bad, f"{path} imports {bad}"


def test_client_never_imports_the_database() -> None:
    for path in _modules("client"):
        bad = {m for m in _imports(path) if m.startswith(("plinth.db", "plinth.server"))}
        bad |= {m for m in _imports(path) if m.endswith(".sql") or ".sql_" in m}
        assert not bad, f"{path.name} imports {bad}"


def test_nothing_imports_the_faces() -> None:
    for path in SOURCE.rglob("*.py"):
        relative = path.relative_to(SOURCE).as_posix()
        if relative.startswith(("server/", "cli/", "sdk/")) or relative in (
            "__init__.py",
            "__main__.py",
            "sklearn.py",
        ):
            continue
        bad = {m for m in _imports(path) if any(m == f or m.startswith(f + ".") for f in FACES)}
        assert not bad, f"{relative} imports {bad}"


def test_components_do_not_import_fastapi() -> None:
    for path in SOURCE.rglob("*.py"):
        relative = path.relative_to(SOURCE).as_posix()
        if relative.startswith("server/"):
            continue
        tree = ast.parse(path.read_text())
        names = {
            node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
        } | {a.name for node in ast.walk(tree) if isinstance(node, ast.Import) for a in node.names}
        assert not any(n.split(".")[0] in ("fastapi", "starlette") for n in names), relative
