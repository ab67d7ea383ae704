"""OpenTelemetry spans around loom's units of work; free when no SDK is configured.

loom only depends on ``opentelemetry-api``: without an SDK installed and configured by
the process, every span is a no-op.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from opentelemetry import trace
from opentelemetry.trace import Span, Status, StatusCode
from opentelemetry.util.types import AttributeValue

__all__ = ["current_trace_id", "span", "tracer"]

tracer = trace.get_tracer("loom")
"""The tracer every loom distribution records its spans with."""


@contextmanager
def span(name: str, attributes: Mapping[str, AttributeValue] | None = None) -> Iterator[Span]:
    """Run the block inside a span called ``name``; an exception marks it as an error."""
    with tracer.start_as_current_span(
        name, attributes=attributes, record_exception=True, set_status_on_exception=False
    ) as current:
        try:
            yield current
        except BaseException as exc:
            current.set_status(Status(StatusCode.ERROR, type(exc).__name__))
            raise


def current_trace_id() -> str | None:
    """Return the current span's trace id as 32 hex digits, or ``None`` outside a real span."""
    context = trace.get_current_span().get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else None
