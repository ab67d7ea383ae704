"""OpenTelemetry spans around loom's units of work; free when tracing is off.

loom only depends on ``opentelemetry-api``. The spans loom opens around use cases, jobs
and ETL steps are recorded once tracing is switched on — ``configure_tracing`` with
``observability.otel.enabled: true`` — and the process has configured an SDK. While it is
off, :func:`span` costs one flag check. :func:`span` used directly by application code
always records.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from opentelemetry import trace
from opentelemetry.trace import Span, Status, StatusCode
from opentelemetry.util.types import AttributeValue

from loom.core.config._settings import OtelSettings

__all__ = ["configure_tracing", "current_trace_id", "is_enabled", "span", "tracer"]

tracer = trace.get_tracer("loom")
"""The tracer every loom distribution records its spans with."""

_enabled = False


def configure_tracing(settings: OtelSettings | None) -> None:
    """Switch loom's own spans on or off from ``observability.otel``."""
    global _enabled
    _enabled = bool(settings and settings.enabled)


def is_enabled() -> bool:
    """True when loom records spans around its units of work."""
    return _enabled


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
