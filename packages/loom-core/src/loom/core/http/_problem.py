"""RFC 9457 problem details: the one mapping from any exception to an HTTP error body."""

from __future__ import annotations

import secrets
from http import HTTPStatus
from typing import Annotated, Any

import msgspec
from msgspec import UNSET, UnsetType

from loom.core.errors import Conflict, LoomError, RuleViolation, ValidationError, http_status_for
from loom.core.logging import logger
from loom.core.tracing import current_trace_id

__all__ = [
    "PROBLEM_CONTENT_TYPE",
    "PROBLEM_TYPE_BASE",
    "ProblemDetails",
    "ProblemFieldError",
    "new_trace_id",
    "problem_details",
    "problem_title",
]

PROBLEM_CONTENT_TYPE = "application/problem+json"
"""The media type of every error body."""

PROBLEM_TYPE_BASE = "https://loom.dev/problems/"
"""Problem ``type`` URIs are this base plus the error's ``code``: ``.../not_found``."""

_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}

_GENERIC_DETAIL = "An unexpected error occurred; quote the trace_id when reporting it."
_UNAVAILABLE_DETAIL = "The service is unavailable right now; try again later."


class ProblemFieldError(msgspec.Struct, frozen=True):
    """One problem with one field or parameter."""

    field: Annotated[
        str, msgspec.Meta(description="The body field path or query parameter, as sent.")
    ]
    message: Annotated[str, msgspec.Meta(description="What is wrong with it.")]


class ProblemDetails(msgspec.Struct, frozen=True, omit_defaults=True):
    """An RFC 9457 problem details body: how every loom runtime answers an error."""

    type: Annotated[str, msgspec.Meta(description="A URI naming the problem type.")]
    title: Annotated[str, msgspec.Meta(description="Short text of the HTTP status.")]
    status: Annotated[int, msgspec.Meta(description="The HTTP status.")]
    detail: Annotated[
        str, msgspec.Meta(description="What went wrong; a generic text for server errors.")
    ]
    code: Annotated[str, msgspec.Meta(description="Stable snake_case code clients may branch on.")]
    trace_id: Annotated[
        str, msgspec.Meta(description="Correlation id; the server log holds the details.")
    ]
    instance: Annotated[str, msgspec.Meta(description="The request path.")] | UnsetType = UNSET
    errors: (
        Annotated[
            list[ProblemFieldError],
            msgspec.Meta(description="Every invalid field or parameter, all at once."),
        ]
        | UnsetType
    ) = UNSET


def new_trace_id() -> str:
    """The current OpenTelemetry trace id, or a new random one: 32 lowercase hex digits."""
    return current_trace_id() or secrets.token_hex(16)


def problem_title(status: int) -> str:
    """The short ``title`` of ``status`` (``"Not Found"``, ``"Unprocessable Content"``...)."""
    title = _TITLES.get(status)
    if title is None:
        try:
            title = HTTPStatus(status).phrase
        except ValueError:
            title = "Error"
    return title


def problem_details(
    error: BaseException, *, trace_id: str | None, instance: str | None = None
) -> tuple[int, dict[str, Any]]:
    """Map ``error`` to ``(status, body)``: the body is RFC 9457 problem details.

    A :class:`LoomError` below 500 gives its message as ``detail``; validation errors
    and rule violations list every problem under ``errors``, a :class:`Conflict` names
    its fields there. Anything else (and every 5xx) answers with a generic ``detail`` and
    code ``internal_error`` (or the error's own code), never the exception's text; the
    error and its traceback are logged under ``trace_id``.

    Args:
        error: The exception the request ended with.
        trace_id: The request's trace id; a new one (see :func:`new_trace_id`) when ``None``.
        instance: The request path, echoed as ``instance``.

    Returns:
        The HTTP status and the body to send as ``application/problem+json``.
    """
    trace_id = trace_id or new_trace_id()
    status = http_status_for(error)
    code = error.code if isinstance(error, LoomError) else "internal_error"
    if status >= 500:
        detail = _UNAVAILABLE_DETAIL if status == 503 else _GENERIC_DETAIL
        logger.opt(exception=error).bind(trace_id=trace_id, code=code).error(
            "Request failed with {} ({}); trace_id={}", status, type(error).__name__, trace_id
        )
    else:
        detail = str(error)
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + code,
        "title": problem_title(status),
        "status": status,
        "detail": detail,
        "code": code,
        "trace_id": trace_id,
    }
    if instance is not None:
        body["instance"] = instance
    if status < 500:
        errors = _field_errors(error)
        if errors is not None:
            body["errors"] = errors
    return status, body


def _field_errors(error: BaseException) -> list[dict[str, str]] | None:
    if isinstance(error, ValidationError):
        return [e.to_dict() for e in error.errors]
    if isinstance(error, RuleViolation):
        return [error.to_field_error().to_dict()]
    if isinstance(error, Conflict) and error.fields:
        return [
            {"field": f, "message": "a record with this value already exists"} for f in error.fields
        ]
    return None
