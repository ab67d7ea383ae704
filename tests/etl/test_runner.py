"""The runner: order, parallel branches, failures and skips, include, event loops, logs, spans."""

from __future__ import annotations

import asyncio
import datetime as dt
import inspect
import threading
import types
from typing import Any

import pytest

pl = pytest.importorskip("polars")
pytest.importorskip("deltalake")

from loom.core import tracing  # noqa: E402
from loom.core.config import OtelSettings  # noqa: E402
from loom.etl import (  # noqa: E402
    ETLParams,
    ETLPipeline,
    ETLProcess,
    ETLRunner,
    ETLStep,
    FromTable,
    IntoTable,
    StepStatus,
    col,
    params,
)
from loom.etl.errors import PipelineRunError, StepExecutionError  # noqa: E402


class Run(ETLParams):
    day: dt.date = dt.date(2024, 5, 1)


def make_step(name: str, target: str, *, reads: tuple[str, ...] = (), body: Any = None) -> type:
    """A step writing ``target``: the ``source`` column of ``reads`` plus one row naming it."""
    sources = {f"src_{i}": FromTable(table) for i, table in enumerate(reads)}

    def execute(self: Any, params: Run, **frames: Any) -> Any:
        if body is not None:
            body()
        mine = pl.LazyFrame({"source": [name]})
        return pl.concat([*(f.select("source") for f in frames.values()), mine])

    # what the compiler sees: one keyword-only parameter per source
    execute.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD),
            inspect.Parameter("params", inspect.Parameter.POSITIONAL_OR_KEYWORD),
            *(inspect.Parameter(k, inspect.Parameter.KEYWORD_ONLY) for k in sources),
        ]
    )
    namespace = {**sources, "target": IntoTable(target).replace(), "execute": execute}
    return types.new_class(name, (ETLStep[Run],), exec_body=lambda ns: ns.update(namespace))


def pipe(*entries: Any, name: str = "Pipe") -> type:
    class Proc(ETLProcess[Run]):
        steps = list(entries)

    class Pipe(ETLPipeline[Run]):
        processes = [Proc]

    Pipe.__name__ = name
    return Pipe


def test_steps_run_in_order_and_read_what_earlier_steps_wrote(lake: Any) -> None:
    first = make_step("First", "t.first")
    second = make_step("Second", "t.second", reads=("t.first",))
    plan = lake.runner().validate(pipe(first, second))
    assert plan.step("Second").sources[0].produced_by == "First"
    result = lake.runner().run(pipe(first, second))
    assert sorted(lake.read("t.second")["source"].to_list()) == ["First", "Second"]
    assert [r.name for r in result.steps] == ["First", "Second"]
    assert result.step("Second").rows_read == 1
    assert all(r.status is StepStatus.SUCCEEDED for r in result.steps)


def test_parallel_branches_run_concurrently(lake: Any) -> None:
    barrier = threading.Barrier(2, timeout=10)  # each branch waits for the other one
    threads: set[str] = set()

    def meet() -> None:
        threads.add(threading.current_thread().name)
        barrier.wait()

    left = make_step("Left", "t.left", body=meet)
    right = make_step("Right", "t.right", body=meet)
    after = make_step("After", "t.after", reads=("t.left", "t.right"))
    result = lake.runner().run(pipe([left, right], after))
    assert result.ok
    assert len(threads) == 2
    assert all(name.startswith("loom-etl") for name in threads)
    assert sorted(lake.read("t.after")["source"].to_list()) == ["After", "Left", "Right"]


def test_parallel_processes_in_a_pipeline(lake: Any) -> None:
    class A(ETLProcess[Run]):
        steps = [make_step("A1", "t.a1"), make_step("A2", "t.a2", reads=("t.a1",))]

    class B(ETLProcess[Run]):
        steps = [make_step("B1", "t.b1")]

    class Both(ETLPipeline[Run]):
        processes = [[A, B], make_step("Last", "t.last", reads=("t.a2", "t.b1"))]

    result = lake.runner().run(Both)
    assert [r.name for r in result.steps] == ["A1", "A2", "B1", "Last"]
    assert sorted(lake.read("t.last")["source"].to_list()) == ["A1", "A2", "B1", "Last"]
    assert "parallel:" in str(lake.runner().validate(Both))


def test_a_failure_stops_the_run_and_records_every_step(lake: Any) -> None:
    def fail() -> None:
        raise RuntimeError("boom")

    ok = make_step("Ok", "t.ok")
    bad = make_step("Bad", "t.bad", body=fail)
    never = make_step("Never", "t.never")
    with pytest.raises(PipelineRunError) as info:
        lake.runner().run(pipe(ok, bad, never), run_id="r-fail")
    error = info.value
    result = error.result
    assert not result.ok
    assert result.run_id == "r-fail"
    assert [(r.name, r.status.value) for r in result.steps] == [
        ("Ok", "succeeded"),
        ("Bad", "failed"),
        ("Never", "skipped"),
    ]
    assert result.step("Bad").error_code == "etl_step_failed"
    assert "execute raised RuntimeError: boom" in (result.step("Bad").error or "")
    assert isinstance(error.__cause__, StepExecutionError)
    assert lake.exists("t.ok")
    assert not lake.exists("t.bad")
    assert not lake.exists("t.never")
    assert "run r-fail of pipeline Pipe failed at step Bad" in str(error)
    assert "Bad" in result.summary()
    assert "skipped" in result.summary()


def test_a_failing_parallel_branch_lets_its_sibling_finish(lake: Any) -> None:
    def fail() -> None:
        raise RuntimeError("boom")

    slow_done = threading.Event()
    bad = make_step("Bad", "t.bad", body=fail)
    good = make_step("Good", "t.good", body=slow_done.set)
    after = make_step("After", "t.after")
    with pytest.raises(PipelineRunError) as info:
        lake.runner().run(pipe([bad, good], after))
    statuses = {r.name: r.status for r in info.value.result.steps}
    assert statuses == {
        "Bad": StepStatus.FAILED,
        "Good": StepStatus.SUCCEEDED,
        "After": StepStatus.SKIPPED,
    }
    assert slow_done.is_set()
    assert lake.exists("t.good")


def test_include_runs_only_the_named_steps(lake: Any) -> None:
    lake.write("t.first", {"source": ["seeded"]})
    first = make_step("First", "t.first")
    second = make_step("Second", "t.second", reads=("t.first",))
    result = lake.runner().run(pipe(first, second), include=["Second"])
    assert [r.name for r in result.steps] == ["Second"]
    assert lake.read("t.first")["source"].to_list() == ["seeded"]  # First did not run
    assert sorted(lake.read("t.second")["source"].to_list()) == ["Second", "seeded"]
    plan = lake.runner().validate(pipe(first, second), include="Second")
    assert "1. First (python)  [excluded]" in str(plan)


async def test_runs_inside_a_running_event_loop(lake: Any) -> None:
    assert asyncio.get_running_loop().is_running()
    result = lake.runner().run(pipe(make_step("Sync", "t.sync")))
    assert result.ok
    assert lake.exists("t.sync")
    result = await lake.runner().arun(pipe(make_step("Async", "t.async")))
    assert result.step("Async").rows_written == 1


def test_from_config_takes_plain_data_and_from_yaml_a_file(lake: Any) -> None:
    runner = ETLRunner.from_config({"storage": {"root": str(lake.base / "elsewhere")}})
    assert runner.storage.table("raw.orders").uri == str(lake.base / "elsewhere/raw/orders")
    assert runner.backend.name == "polars"
    lake.write_config("tables: {raw.orders: {path: ./custom/orders}}")
    from_file = ETLRunner.from_yaml(lake.config)
    assert from_file.storage.table("raw.orders").uri == str(lake.base / "custom/orders")
    assert from_file.storage.table("raw.other").uri == str(lake.base / "lake/raw/other")


def test_steps_log_their_outcome(lake: Any, log_messages: list[str]) -> None:
    lake.runner().run(pipe(make_step("Logged", "t.logged")), run_id="r-log")
    assert "etl run r-log of Pipe started: 1 steps" in log_messages
    assert any(
        m.startswith("etl step Logged succeeded: rows_read=0 rows_written=1 version=0")
        for m in log_messages
    )
    assert any(m.startswith("etl run r-log of Pipe succeeded") for m in log_messages)


@pytest.fixture
def spans(monkeypatch: pytest.MonkeyPatch) -> Any:
    sdk_trace = pytest.importorskip("opentelemetry.sdk.trace")
    export = pytest.importorskip("opentelemetry.sdk.trace.export")
    in_memory = pytest.importorskip("opentelemetry.sdk.trace.export.in_memory_span_exporter")
    memory = in_memory.InMemorySpanExporter()
    provider = sdk_trace.TracerProvider()
    provider.add_span_processor(export.SimpleSpanProcessor(memory))
    monkeypatch.setattr(tracing, "tracer", provider.get_tracer("loom"))
    tracing.configure_tracing(OtelSettings(enabled=True))
    yield memory
    tracing.configure_tracing(None)


def test_runs_and_steps_are_traced(lake: Any, spans: Any) -> None:
    def fail() -> None:
        raise RuntimeError("boom")

    left = make_step("Left", "t.left")
    right = make_step("Right", "t.right", body=fail)
    with pytest.raises(PipelineRunError):
        lake.runner().run(pipe([left, right]), run_id="r-span")
    finished = {s.name: s for s in spans.get_finished_spans()}
    assert set(finished) == {"etl.run Pipe", "etl.step Left", "etl.step Right"}
    run_span = finished["etl.run Pipe"]
    assert run_span.attributes["loom.etl.run_id"] == "r-span"
    for name in ("etl.step Left", "etl.step Right"):  # parented across the worker threads
        assert finished[name].parent.span_id == run_span.context.span_id
    assert finished["etl.step Left"].attributes["loom.etl.rows_written"] == 1
    assert finished["etl.step Right"].status.status_code.name == "ERROR"
    assert run_span.status.status_code.name == "ERROR"


class Slice(ETLParams):
    day: dt.date
    regions: tuple[str, ...]


def test_source_predicates_bind_params_and_push_down(lake: Any) -> None:
    days = [dt.date(2024, 5, 1), dt.date(2024, 5, 1), dt.date(2024, 5, 1), dt.date(2024, 5, 2)]
    lake.write("raw.sales", {"day": days, "region": ["eu", "us", "apac", "eu"], "n": [1, 2, 3, 4]})

    class Pick(ETLStep[Slice]):
        sales = (
            FromTable("raw.sales")
            .columns("region", "n")
            .where((col("day") == params.day) & col("region").isin(params.regions))
        )
        target = IntoTable("t.picked").replace()

        def execute(self, params: Slice, *, sales: Any) -> Any:
            return sales

    class Proc(ETLProcess[Slice]):
        steps = [Pick]

    class Pipe(ETLPipeline[Slice]):
        processes = [Proc]

    result = lake.runner().run(Pipe, {"day": "2024-05-01", "regions": ["eu", "us"]})
    assert lake.read("t.picked", sort="n").rows() == [("eu", 1), ("us", 2)]
    assert result.step("Pick").rows_read == 2


def test_filters_in_execute_are_pushed_into_the_scan(lake: Any) -> None:
    lake.write("raw.big", {"id": list(range(1000)), "flag": [i % 100 == 0 for i in range(1000)]})

    class Flagged(ETLStep[Run]):
        big = FromTable("raw.big")
        target = IntoTable("t.flagged").replace()

        def execute(self, params: Run, *, big: Any) -> Any:
            return big.filter(pl.col("flag")).select("id")

    class Proc(ETLProcess[Run]):
        steps = [Flagged]

    class Pipe(ETLPipeline[Run]):
        processes = [Proc]

    result = lake.runner().run(Pipe)
    record = result.step("Flagged")
    assert record.rows_written == 10
    assert record.rows_read == 10  # the scan delivered only the matching rows
