"""Every error leaves the server as RFC 9457 problem+json, with the field and the reason; a
browser on a UI page gets the same problem as an HTML page instead."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from plinth.errors import (
    FieldError,
    InvalidArgument,
    NotFound,
    PayloadTooLarge,
    PlinthError,
    Unauthenticated,
)

PROBLEM_MEDIA_TYPE = "application/problem+json"
logger = logging.getLogger("plinth.server")


def problem_response(error: PlinthError, request: Request) -> Response:
    """problem+json; or, for a browser on a UI page, the same problem as an HTML page."""
    problem = error.to_problem(instance=request.url.path)
    if _wants_a_page(request):
        from plinth.server.ui.templating import render

        context = {"title": problem["title"], "message": problem["detail"]}
        return render(request, "error.html", context, status_code=error.status)
    return JSONResponse(problem, status_code=error.status, media_type=PROBLEM_MEDIA_TYPE)


_MACHINE_PATHS = ("/api/", "/healthz", "/readyz", "/metrics", "/openapi.json", "/docs", "/static/")


def _wants_a_page(request: Request) -> bool:
    path = request.url.path
    return "text/html" in request.headers.get("accept", "") and not path.startswith(_MACHINE_PATHS)


def _location(loc: tuple[object, ...] | list[object]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header"):
        parts = parts[1:] or parts
    return ".".join(parts) or "body"


def _field_error(error: dict[str, Any]) -> FieldError:
    loc = error.get("loc", ())
    message = str(error.get("msg", "invalid"))
    if error.get("type") == "json_invalid":  # loc is ("body", position): name the body
        position = loc[-1] if loc else "?"
        return FieldError("body", f"{message} at character {position}")
    return FieldError(_location(loc), message)


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(PlinthError)
    async def _plinth_error(request: Request, exc: PlinthError) -> Response:
        if exc.status >= 500:
            logger.error("request failed: %s", exc)
        return problem_response(exc, request)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> Response:
        errors = [_field_error(error) for error in exc.errors()]
        summary = "; ".join(f"{e.field}: {e.message}" for e in errors[:3])
        error = InvalidArgument(f"invalid request: {summary}", errors)
        return problem_response(error, request)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        mapped: PlinthError
        if exc.status_code == 404:
            mapped = NotFound(f"no route for {request.method} {request.url.path}")
        elif exc.status_code == 401:
            mapped = Unauthenticated(str(exc.detail))
        elif exc.status_code == 413:
            mapped = PayloadTooLarge(str(exc.detail))
        elif exc.status_code == 405:
            mapped = _MethodNotAllowed(f"{request.method} is not allowed on {request.url.path}")
        else:
            mapped = InvalidArgument(str(exc.detail))
            mapped_status = exc.status_code if 400 <= exc.status_code < 500 else 400
            body = mapped.to_problem(instance=request.url.path)
            body["status"] = mapped_status
            return JSONResponse(body, status_code=mapped_status, media_type=PROBLEM_MEDIA_TYPE)
        return problem_response(mapped, request)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, _exc: Exception) -> Response:
        logger.exception("unexpected error on %s %s", request.method, request.url.path)
        return problem_response(PlinthError("internal error; see the server log"), request)


class _MethodNotAllowed(PlinthError):
    status = 405
    slug = "method-not-allowed"
    title = "Method not allowed"
