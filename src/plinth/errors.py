"""The plinth exception tree; each class knows its HTTP status and problem type.

* PlinthError (500)
  x InvalidArgument (400): bad input; ``errors`` names each field and why
    + FilterSyntaxError (400): a search filter that does not parse, with the position
    + UnsafeArtifact (422): a file that would run dangerous code when loaded
  x CorruptArtifact (500): stored bytes no longer match their digest
  x Unauthenticated (401)
  x PermissionDenied (403)
  x NotFound (404)
  x Conflict (409): the request contradicts stored state
    + AlreadyExists (409)
  x PayloadTooLarge (413)
  x Unavailable (503): the server or database cannot be reached right now

The server turns these into RFC 9457 problem+json; the REST client turns problem+json back
into the same classes, so callers see one error model in local and remote mode.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

PROBLEM_BASE = "https://plinth.dev/problems/"


@dataclass(frozen=True)
class FieldError:
    """One input field that was rejected, and why."""

    field: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}


@dataclass
class PlinthError(Exception):
    """Base of every error plinth raises on purpose."""

    detail: str
    errors: list[FieldError] = field(default_factory=list)

    status: ClassVar[int] = 500
    slug: ClassVar[str] = "internal"
    title: ClassVar[str] = "Internal error"

    def __post_init__(self) -> None:
        super().__init__(self.detail)

    def __str__(self) -> str:
        if not self.errors:
            return self.detail
        fields = "; ".join(f"{e.field}: {e.message}" for e in self.errors)
        return f"{self.detail} ({fields})"

    @property
    def type_uri(self) -> str:
        return PROBLEM_BASE + self.slug

    def to_problem(self, instance: str | None = None) -> dict[str, Any]:
        """The RFC 9457 problem document for this error."""
        body: dict[str, Any] = {
            "type": self.type_uri,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "errors": [e.to_dict() for e in self.errors],
        }
        if instance:
            body["instance"] = instance
        return body


class InvalidArgument(PlinthError):
    status = 400
    slug = "invalid-argument"
    title = "Invalid argument"

    @classmethod
    def for_field(cls, field_name: str, message: str) -> InvalidArgument:
        """Shortcut for the common case of a single bad field."""
        return cls(f"{field_name}: {message}", [FieldError(field_name, message)])


class FilterSyntaxError(InvalidArgument):
    slug = "filter-syntax"
    title = "Malformed filter"


class UnsafeArtifact(InvalidArgument):
    """A file that can execute code when loaded and imports something dangerous; each
    finding is one entry of ``errors``."""

    status = 422
    slug = "unsafe-artifact"
    title = "Unsafe artifact"

    @classmethod
    def with_findings(cls, path: str, findings: list[str]) -> UnsafeArtifact:
        return cls(
            f"{path} can execute code when loaded and was refused: {'; '.join(findings)}",
            [FieldError(path, finding) for finding in findings],
        )


class CorruptArtifact(PlinthError):
    slug = "corrupt-artifact"
    title = "Stored artifact does not match its digest"


class Unauthenticated(PlinthError):
    status = 401
    slug = "unauthenticated"
    title = "Authentication required"


class PermissionDenied(PlinthError):
    status = 403
    slug = "permission-denied"
    title = "Permission denied"


class NotFound(PlinthError):
    status = 404
    slug = "not-found"
    title = "Not found"


class Conflict(PlinthError):
    status = 409
    slug = "conflict"
    title = "Conflict"


class AlreadyExists(Conflict):
    slug = "already-exists"
    title = "Already exists"


class PayloadTooLarge(PlinthError):
    status = 413
    slug = "payload-too-large"
    title = "Payload too large"


class Unavailable(PlinthError):
    status = 503
    slug = "unavailable"
    title = "Service unavailable"


_BY_SLUG: dict[str, type[PlinthError]] = {
    cls.slug: cls
    for cls in (
        PlinthError,
        InvalidArgument,
        FilterSyntaxError,
        UnsafeArtifact,
        CorruptArtifact,
        Unauthenticated,
        PermissionDenied,
        NotFound,
        Conflict,
        AlreadyExists,
        PayloadTooLarge,
        Unavailable,
    )
}
_BY_STATUS: dict[int, type[PlinthError]] = {
    400: InvalidArgument,
    401: Unauthenticated,
    403: PermissionDenied,
    404: NotFound,
    409: Conflict,
    413: PayloadTooLarge,
    422: InvalidArgument,
    503: Unavailable,
}


TRANSIENT_STATUSES = frozenset({408, 429, 500, 502, 504})
"""Answers that say "not now" rather than "never": a request timeout, too many requests,
and a server (or a proxy in front of it) that failed or could not reach plinth. A client
keeps such a write and tries again later, as for 503, instead of dropping it."""


def error_from_problem(status: int, problem: dict[str, Any]) -> PlinthError:
    """Rebuild the matching PlinthError from a problem+json body (used by the REST client)."""
    type_uri = str(problem.get("type", ""))
    slug = type_uri.removeprefix(PROBLEM_BASE)
    cls = _BY_SLUG.get(slug) or _BY_STATUS.get(status, PlinthError)
    if status in TRANSIENT_STATUSES and cls is PlinthError:
        cls = Unavailable
    errors = [
        FieldError(str(e.get("field", "")), str(e.get("message", "")))
        for e in problem.get("errors") or []
        if isinstance(e, dict)
    ]
    return cls(str(problem.get("detail") or problem.get("title") or f"HTTP {status}"), errors)
