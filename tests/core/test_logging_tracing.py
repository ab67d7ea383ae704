"""``configure_logging`` (loguru + stdlib bridge) and ``span`` / ``current_trace_id``."""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry import trace

from loom.core import tracing
from loom.core.config import LogSettings
from loom.core.logging import configure_logging, logger
from loom.core.tracing import current_trace_id, span


@pytest.fixture
def sink() -> Iterator[io.StringIO]:
    """A StringIO sink; loguru and the root logger are restored afterwards."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield io.StringIO()
    logger.remove()
    # Like loguru's default handler, but looks sys.stderr up at each write, so it never
    # holds on to the capture stream of the test that just ended.
    logger.add(lambda message: sys.stderr.write(message))
    root.handlers[:] = handlers
    root.setLevel(level)


def records(sink: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line)["record"] for line in sink.getvalue().splitlines()]


# --- logging --------------------------------------------------------------------------------


def test_default_settings_log_info_and_above(sink: io.StringIO) -> None:
    configure_logging(sink=sink)
    logger.debug("debug-line")
    logger.info("info-line")
    text = sink.getvalue()
    assert "debug-line" not in text
    assert "info-line" in text
    assert "INFO" in text


def test_level_filters_loguru_and_stdlib(sink: io.StringIO) -> None:
    configure_logging(LogSettings(level="WARNING"), sink=sink)
    logger.info("loguru-info")
    logger.warning("loguru-warning")
    logging.getLogger("loom.test.filter").info("stdlib-info")
    logging.getLogger("loom.test.filter").error("stdlib-error")
    text = sink.getvalue()
    assert "loguru-info" not in text
    assert "stdlib-info" not in text
    assert "loguru-warning" in text
    assert "stdlib-error" in text


def test_json_writes_one_json_object_per_line(sink: io.StringIO) -> None:
    configure_logging(LogSettings(json=True, level="DEBUG"), sink=sink)
    logger.debug("first {}", 1)
    logger.error("second")
    lines = sink.getvalue().splitlines()
    assert len(lines) == 2
    parsed = [json.loads(line) for line in lines]
    assert [p["record"]["message"] for p in parsed] == ["first 1", "second"]
    assert [p["record"]["level"]["name"] for p in parsed] == ["DEBUG", "ERROR"]
    assert all("text" in p for p in parsed)


def test_stdlib_logging_ends_up_in_the_loguru_sink(sink: io.StringIO) -> None:
    configure_logging(LogSettings(json=True), sink=sink)
    logging.getLogger("loom.test.bridge").warning("disk %s%% full", 91)
    (record,) = records(sink)
    assert record["message"] == "disk 91% full"
    assert record["level"]["name"] == "WARNING"


def test_stdlib_exception_keeps_its_traceback(sink: io.StringIO) -> None:
    configure_logging(sink=sink)
    try:
        raise ValueError("boom-7c1")
    except ValueError:
        logging.getLogger("loom.test.exc").exception("it failed")
    text = sink.getvalue()
    assert "it failed" in text
    assert "ValueError: boom-7c1" in text


def _log_through_stdlib() -> None:
    logging.getLogger("loom.test.location").warning("where am I")


def test_stdlib_records_keep_the_callers_location(sink: io.StringIO) -> None:
    configure_logging(LogSettings(json=True), sink=sink)
    _log_through_stdlib()
    (record,) = records(sink)
    assert record["function"] == "_log_through_stdlib"
    assert record["file"]["path"] == __file__


def test_disabled_logging_writes_nothing(sink: io.StringIO) -> None:
    configure_logging(LogSettings(enabled=False), sink=sink)
    logger.critical("loguru-critical")
    logging.getLogger("loom.test.disabled").critical("stdlib-critical")
    assert sink.getvalue() == ""


def test_reconfiguring_replaces_the_previous_sink(sink: io.StringIO) -> None:
    configure_logging(sink=sink)
    second = io.StringIO()
    configure_logging(sink=second)
    logger.info("only-in-second")
    assert "only-in-second" in second.getvalue()
    assert "only-in-second" not in sink.getvalue()


# --- tracing without an SDK -----------------------------------------------------------------


@pytest.fixture
def no_sdk() -> None:
    provider = trace.get_tracer_provider()
    assert isinstance(provider, trace.ProxyTracerProvider), f"an SDK is configured: {provider!r}"


@pytest.mark.usefixtures("no_sdk")
def test_span_is_a_noop_without_an_sdk() -> None:
    assert current_trace_id() is None
    with span("loom.test", {"loom.kind": "unit", "loom.count": 2}) as current:
        assert not current.is_recording()
        assert current_trace_id() is None
        with span("loom.test.inner") as inner:
            assert not inner.is_recording()
    assert current_trace_id() is None


@pytest.mark.usefixtures("no_sdk")
def test_span_reraises_the_exception_without_an_sdk() -> None:
    with pytest.raises(KeyError, match="missing-4d2"), span("loom.test.fails"):
        raise KeyError("missing-4d2")


# --- tracing with the SDK (skipped unless opentelemetry-sdk is installed) -------------------


@pytest.fixture
def exporter(monkeypatch: pytest.MonkeyPatch) -> Any:
    sdk_trace = pytest.importorskip("opentelemetry.sdk.trace")
    export = pytest.importorskip("opentelemetry.sdk.trace.export")
    in_memory = pytest.importorskip("opentelemetry.sdk.trace.export.in_memory_span_exporter")
    memory = in_memory.InMemorySpanExporter()
    provider = sdk_trace.TracerProvider()
    provider.add_span_processor(export.SimpleSpanProcessor(memory))
    # No global provider is installed: loom's tracer is swapped for the test only.
    monkeypatch.setattr(tracing, "tracer", provider.get_tracer("loom"))
    return memory


def test_span_records_with_an_sdk(exporter: Any) -> None:
    with span("loom.test.sdk", {"loom.kind": "unit"}) as current:
        assert current.is_recording()
        trace_id = current_trace_id()
        assert trace_id is not None
        assert len(trace_id) == 32
        assert int(trace_id, 16) == current.get_span_context().trace_id
    assert current_trace_id() is None
    (finished,) = exporter.get_finished_spans()
    assert finished.name == "loom.test.sdk"
    assert finished.attributes["loom.kind"] == "unit"
    assert finished.status.status_code is trace.StatusCode.UNSET


def test_failed_span_is_marked_as_an_error_with_an_sdk(exporter: Any) -> None:
    with pytest.raises(ValueError, match="bad"), span("loom.test.sdk.fails"):
        raise ValueError("bad")
    (finished,) = exporter.get_finished_spans()
    assert finished.status.status_code is trace.StatusCode.ERROR
    assert finished.status.description == "ValueError"
    assert any(event.name == "exception" for event in finished.events)
