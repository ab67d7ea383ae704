"""Spans and log events around runs and steps."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from opentelemetry.trace import Span, Status, StatusCode
from opentelemetry.util.types import AttributeValue

from loom.core import tracing

__all__ = ["mark_failed", "maybe_span"]


@contextmanager
def maybe_span(name: str, attributes: Mapping[str, AttributeValue]) -> Iterator[Span | None]:
    """A loom span when tracing is on (``observability.otel.enabled``), else nothing."""
    if not tracing.is_enabled():
        yield None
        return
    with tracing.span(name, attributes) as current:
        yield current


def mark_failed(span: Span | None, error: BaseException, code: str) -> None:
    """Mark ``span`` as failed with ``error`` (for errors recorded rather than raised)."""
    if span is None:
        return
    span.record_exception(error)
    span.set_attribute("loom.error_code", code)
    span.set_status(Status(StatusCode.ERROR, code))
