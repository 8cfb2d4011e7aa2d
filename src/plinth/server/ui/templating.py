"""One Jinja2 environment for every page: autoescaped, loaded from the package, with the
filters the pages share, so templates never format numbers or times by hand."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import Request
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.responses import Response

from plinth import __version__

UI_DIR = Path(__file__).parent
STATIC_DIR = UI_DIR / "static"
TEMPLATES_DIR = UI_DIR / "templates"


@dataclass(frozen=True)
class NavLink:
    """An entry of the shell's top navigation; ``section`` marks it active on its pages."""

    label: str
    path: str
    section: str


NAV_LINKS: list[NavLink] = [
    NavLink("Experiments", "/experiments", "experiments"),
    NavLink("Runs", "/runs", "runs"),
    NavLink("Compare", "/compare", "compare"),
    NavLink("Models", "/models", "models"),
]
"""The shell's navigation. Later pages add their link here, in the order they should show."""


def format_time(ms: int | None) -> str:
    """Milliseconds since the epoch as a UTC timestamp a person can read."""
    if ms is None:
        return ""
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def format_duration(start_ms: int | None, end_ms: int | None) -> str:
    """``1h 02m``, ``3m 07s`` or ``12.3s``; empty while a run has no end."""
    if start_ms is None or end_ms is None:
        return ""
    seconds = max(0.0, (end_ms - start_ms) / 1000)
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours}h {minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours:02d}h"


def format_number(value: float | None) -> str:
    """Metric values with four significant digits; NaN and infinities spelled out."""
    if value is None:
        return ""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.4g}"


def format_param(value: Any) -> str:
    """Params keep their type: strings as they are, everything else as JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, allow_nan=True, sort_keys=True)


def format_bytes(size: int | None) -> str:
    if size is None:
        return ""
    amount = float(size)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if amount < 1024 or unit == "TB":
            return f"{int(amount)} {unit}" if unit == "B" else f"{amount:.1f} {unit}"
        amount /= 1024
    return f"{size} B"  # pragma: no cover (the loop always returns)


def quote_path(path: str) -> str:
    """An artifact path for a URL: every segment escaped, the slashes kept."""
    return quote(path, safe="/")


def query_string(params: dict[str, Any]) -> str:
    """``?a=1&b=2&b=3`` from a dict whose values may be lists; empty values are dropped."""
    pairs: list[tuple[str, str]] = []
    for key, value in params.items():
        values = value if isinstance(value, list | tuple) else [value]
        pairs.extend((key, str(v)) for v in values if v is not None and v != "")
    return "?" + urlencode(pairs) if pairs else ""


def _build_environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,  # a typo in a template fails the page tests, not silently
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        time=format_time,
        number=format_number,
        param=format_param,
        bytes=format_bytes,
        quote_path=quote_path,
    )
    env.globals.update(
        nav_links=NAV_LINKS,
        version=__version__,
        duration=format_duration,
        query_string=query_string,
    )
    return env


templates = Jinja2Templates(env=_build_environment())


def is_partial(request: Request) -> bool:
    """An htmx swap wants only the fragment; a history restore after a cache miss wants the
    whole page again."""
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )


def render(
    request: Request,
    name: str,
    context: dict[str, Any],
    *,
    section: str = "",
    status_code: int = 200,
) -> Response:
    """Render a template with what the shell needs: the mount prefix (``root``) so links
    work behind a proxy path, and the active navigation ``section``."""
    root = str(request.scope.get("root_path", "")).rstrip("/")
    shell = {"root": root, "api": root + "/api/v1", "section": section}
    return templates.TemplateResponse(request, name, {**shell, **context}, status_code=status_code)
