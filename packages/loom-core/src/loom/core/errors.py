"""The loom error family.

Every error loom raises on purpose is a :class:`LoomError`. Each class carries a
stable snake_case ``code`` and the HTTP status a REST runtime answers with; the
status lives in one mapping, :data:`HTTP_STATUS`, read through :func:`http_status_for`.

Each distribution adds one subtree root (``StoreError``, ``RestError``, ``JobError``,
``EtlError``) under :class:`LoomError` and wraps third-party exceptions with
``raise ... from exc``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

__all__ = [
    "HTTP_STATUS",
    "CompilationError",
    "ConfigurationError",
    "Conflict",
    "FieldError",
    "Forbidden",
    "InternalError",
    "LoomError",
    "MethodNotAllowed",
    "MissingDependencyError",
    "NotFound",
    "PayloadTooLarge",
    "RuleViolation",
    "RuleViolations",
    "ServiceUnavailable",
    "Unauthorized",
    "UnsupportedMediaType",
    "ValidationError",
    "http_status_for",
]


@dataclass(frozen=True, slots=True)
class FieldError:
    """One problem with one field: where it is and what is wrong.

    Attributes:
        field: Dotted path of the field (``"address.zip_code"``), or ``""`` for the whole input.
        message: What is wrong, in words a client can show.

    """

    field: str
    message: str

    def to_dict(self) -> dict[str, str]:
        """Return the ``{"field": ..., "message": ...}`` form used in problem details."""
        return {"field": self.field, "message": self.message}


class LoomError(Exception):
    """Root of every error loom raises on purpose.

    Attributes:
        code: Stable snake_case identifier clients may branch on.
        message: Human-readable description.

    """

    code: ClassVar[str] = "loom_error"

    def __init__(self, message: str = "") -> None:
        super().__init__(message)
        self.message = message or self.__class__.__doc__ or self.code

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.args, self.__dict__))


def _rebuild(cls: type[LoomError], args: tuple[Any, ...], state: dict[str, Any]) -> LoomError:
    error = cls.__new__(cls)
    Exception.__init__(error, *args)
    error.__dict__.update(state)
    return error


class ConfigurationError(LoomError):
    """The configuration is missing, malformed or does not validate."""

    code = "configuration_error"

    def __init__(self, message: str, *, source: str | None = None, key: str | None = None) -> None:
        parts = [p for p in (source, key) if p]
        prefix = ": ".join(parts)
        super().__init__(f"{prefix}: {message}" if prefix else message)
        self.source = source
        self.key = key


class CompilationError(LoomError):
    """A declaration (use case, interface, job, pipeline) is wrong; found at start-up."""

    code = "compilation_error"


class MissingDependencyError(LoomError, ImportError):
    """An optional dependency is not installed; the message names the extra to install."""

    code = "missing_dependency"

    def __init__(self, module: str, *, distribution: str, extra: str) -> None:
        super().__init__(
            f"{module!r} is not installed; install it with: pip install '{distribution}[{extra}]'"
        )
        self.module = module
        self.distribution = distribution
        self.extra = extra


class NotFound(LoomError):
    """The requested entity does not exist."""

    code = "not_found"

    def __init__(self, message: str = "", *, entity: str | None = None, id: Any = None) -> None:
        if not message and entity is not None:
            message = f"{entity} {id!r} not found" if id is not None else f"{entity} not found"
        super().__init__(message or "not found")
        self.entity = entity
        self.id = id


class Conflict(LoomError):
    """The request conflicts with the current state, e.g. a unique value is taken."""

    code = "conflict"

    def __init__(self, message: str = "", *, fields: Iterable[str] = ()) -> None:
        self.fields = tuple(fields)
        if not message:
            message = (
                f"a record with this {', '.join(self.fields)} already exists"
                if self.fields
                else "conflict"
            )
        super().__init__(message)


class Unauthorized(LoomError):
    """The request carries no valid credentials."""

    code = "unauthorized"


class Forbidden(LoomError):
    """The caller is authenticated but may not do this."""

    code = "forbidden"


class ValidationError(LoomError):
    """Input failed validation; ``errors`` lists every problem at once."""

    code = "validation_error"

    def __init__(self, message: str = "", *, errors: Iterable[FieldError] = ()) -> None:
        self.errors = tuple(errors)
        if not message:
            message = "; ".join(
                f"{e.field}: {e.message}" if e.field else e.message for e in self.errors
            )
        super().__init__(message or "validation failed")


class RuleViolation(LoomError):
    """One business rule was violated."""

    code = "rule_violation"

    def __init__(self, message: str, *, field: str = "") -> None:
        super().__init__(message)
        self.field = field

    def to_field_error(self) -> FieldError:
        """Return this violation as a :class:`FieldError`."""
        return FieldError(self.field, self.message)


class RuleViolations(ValidationError):
    """One or more business rules were violated; all of them are listed."""

    code = "rule_violations"

    def __init__(self, violations: Iterable[RuleViolation]) -> None:
        self.violations = tuple(violations)
        super().__init__(errors=[v.to_field_error() for v in self.violations])


class MethodNotAllowed(LoomError):
    """The path exists but does not answer this HTTP method."""

    code = "method_not_allowed"


class PayloadTooLarge(LoomError):
    """The request body is larger than the configured limit."""

    code = "payload_too_large"


class UnsupportedMediaType(LoomError):
    """The request body is not in a media type the route accepts (JSON)."""

    code = "unsupported_media_type"


class ServiceUnavailable(LoomError):
    """A backing service (database, broker) cannot be reached right now."""

    code = "service_unavailable"


class InternalError(LoomError):
    """An unexpected failure; details go to the log, never to the client."""

    code = "internal_error"


HTTP_STATUS: Mapping[type[LoomError], int] = {
    ValidationError: 422,
    RuleViolation: 422,
    NotFound: 404,
    Conflict: 409,
    Unauthorized: 401,
    Forbidden: 403,
    MethodNotAllowed: 405,
    PayloadTooLarge: 413,
    UnsupportedMediaType: 415,
    ServiceUnavailable: 503,
    InternalError: 500,
    LoomError: 500,
}
"""The one mapping from error class to HTTP status; subclasses inherit their parent's."""


def http_status_for(error: BaseException) -> int:
    """Return the HTTP status for ``error``: the nearest class in :data:`HTTP_STATUS`.

    Anything that is not a :class:`LoomError` maps to 500.
    """
    for cls in type(error).__mro__:
        status = HTTP_STATUS.get(cls)
        if status is not None:
            return status
    return 500
