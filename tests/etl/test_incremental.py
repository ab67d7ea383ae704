"""Incremental sources: each run reads only the rows past the last successful run's mark."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

pl = pytest.importorskip("polars")
pytest.importorskip("deltalake")

from loom.etl import (  # noqa: E402
    ETLParams,
    ETLPipeline,
    ETLProcess,
    ETLRunner,
    ETLStep,
    FromTable,
    IntoTable,
)
from loom.etl.errors import (  # noqa: E402
    DuplicateKeyError,
    HistoryError,
    PipelineCompilationError,
    PipelineRunError,
)
from loom.etl.history import RunHistory, StepRow  # noqa: E402

T0 = dt.datetime(2024, 5, 1, 12, tzinfo=dt.UTC)
BEHAVIOUR: dict[str, Any] = {}


def at(minutes: int) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


class Run(ETLParams):
    label: str = "x"


class CopyEvents(ETLStep[Run]):
    events = FromTable("raw.events").incremental(cursor="updated_at")
    target = IntoTable("staging.events").append()

    def execute(self, params: Run, *, events: Any) -> Any:
        hook = BEHAVIOUR.get("during")
        if hook is not None:
            hook()
        if BEHAVIOUR.get("fail"):
            raise RuntimeError("broken transform")
        return events


class Proc(ETLProcess[Run]):
    steps = [CopyEvents]


class Pipe(ETLPipeline[Run]):
    processes = [Proc]


@pytest.fixture(autouse=True)
def _reset() -> None:
    BEHAVIOUR.clear()


def _events(lake: Any, ids: list[int], minutes: list[int], *, append: bool = True) -> None:
    lake.write(
        "raw.events",
        pl.DataFrame(
            {"id": ids, "updated_at": [at(m) for m in minutes]},
            schema={"id": pl.Int64, "updated_at": pl.Datetime("us", "UTC")},
        ),
        mode="append" if append else "overwrite",
    )


def _mark(runner: ETLRunner) -> Any:
    assert runner.history is not None
    mark = runner.history.watermark("Pipe", "CopyEvents", "events")
    return None if mark is None else mark.value


def test_the_second_run_reads_only_newer_rows(lake: Any) -> None:
    _events(lake, [1, 2, 3], [1, 2, 3], append=False)
    runner = lake.runner()
    first = runner.run(Pipe)
    assert first.step("CopyEvents").rows_read == 3
    assert _mark(runner) == at(3)  # a tz-aware datetime, kept as such

    _events(lake, [4, 5], [4, 5])
    second = runner.run(Pipe)

    assert second.step("CopyEvents").rows_read == 2
    assert lake.read("staging.events", sort="id")["id"].to_list() == [1, 2, 3, 4, 5]
    assert _mark(runner) == at(5)
    commit = lake.last_commit("staging.events")
    assert "updated_at" in commit["loom.watermarks"]  # the mark travels with the commit
    third = runner.run(Pipe)  # nothing new: an empty window, the mark stays
    assert third.step("CopyEvents").rows_read == 0
    assert lake.read("staging.events").height == 5
    assert _mark(runner) == at(5)
    assert "incremental(cursor='updated_at')" in str(runner.validate(Pipe))


def test_a_failed_step_does_not_advance_the_mark(lake: Any) -> None:
    _events(lake, [1, 2], [1, 2], append=False)
    runner = lake.runner()
    runner.run(Pipe)
    _events(lake, [3, 4], [3, 4])
    BEHAVIOUR["fail"] = True
    with pytest.raises(PipelineRunError):
        runner.run(Pipe)
    assert _mark(runner) == at(2)
    assert runner.history is not None
    with runner.history._db.connect() as conn:  # staged marks were dropped with the failure
        assert conn.execute("SELECT COUNT(*) FROM loom_etl_pending_marks").fetchone()[0] == 0

    BEHAVIOUR.clear()
    retried = runner.run(Pipe)

    assert retried.step("CopyEvents").rows_read == 2  # rows 3 and 4, read again
    assert lake.read("staging.events", sort="id")["id"].to_list() == [1, 2, 3, 4]
    assert _mark(runner) == at(4)


def test_a_failed_write_does_not_advance_the_mark(lake: Any) -> None:
    class Upsert(ETLStep[Run]):
        events = FromTable("raw.events").incremental(cursor="updated_at")
        target = IntoTable("dim.events").upsert(keys=("id",))

        def execute(self, params: Run, *, events: Any) -> Any:
            return events

    class UpsertProc(ETLProcess[Run]):
        steps = [Upsert]

    class UpsertPipe(ETLPipeline[Run]):
        processes = [UpsertProc]

    _events(lake, [1, 1], [1, 2], append=False)  # two different rows with key 1
    runner = lake.runner()
    with pytest.raises(PipelineRunError) as info:
        runner.run(UpsertPipe)
    assert isinstance(info.value.errors[0], DuplicateKeyError)
    assert runner.history is not None
    assert runner.history.watermark("UpsertPipe", "Upsert", "events") is None


def test_rows_arriving_while_the_step_runs_wait_for_the_next_run(lake: Any) -> None:
    _events(lake, [1, 2], [1, 2], append=False)
    BEHAVIOUR["during"] = lambda: _events(lake, [3], [3])  # lands after the window is fixed
    runner = lake.runner()
    first = runner.run(Pipe)
    assert first.step("CopyEvents").rows_read == 2
    assert _mark(runner) == at(2)
    BEHAVIOUR.clear()
    second = runner.run(Pipe)
    assert second.step("CopyEvents").rows_read == 1
    assert sorted(lake.read("staging.events")["id"].to_list()) == [1, 2, 3]


class CrashAfterCommit(RunHistory):
    def step_finished(self, row: StepRow, **kwargs: Any) -> None:
        if row.status == "succeeded":
            raise KeyboardInterrupt  # the process stops right after the commit
        super().step_finished(row, **kwargs)


def test_the_next_run_reconciles_a_mark_whose_commit_the_history_missed(lake: Any) -> None:
    _events(lake, [1, 2], [1, 2], append=False)
    crashing = lake.runner()
    crashing.history = CrashAfterCommit(f"sqlite:///{lake.root / '_loom_runs.db'}")
    with pytest.raises(KeyboardInterrupt):
        crashing.run(Pipe, run_id="crashed")
    runner = lake.runner()
    assert _mark(runner) is None  # the history never heard of the commit
    _events(lake, [3], [3])

    result = runner.run(Pipe)  # a new run, not a resume: it reconciles first

    assert result.step("CopyEvents").rows_read == 1  # rows 1 and 2 are not read twice
    assert sorted(lake.read("staging.events")["id"].to_list()) == [1, 2, 3]
    assert runner.history is not None
    row = next(s for s in runner.history.steps("crashed") if s.step == "CopyEvents")
    assert row.status == "succeeded"
    assert runner.history.run("crashed").status == "failed"  # type: ignore[union-attr]


def test_incremental_sources_need_a_history_and_an_existing_cursor(lake: Any) -> None:
    _events(lake, [1], [1], append=False)
    bare = ETLRunner(lake.runner().backend, lake.runner().storage)
    with pytest.raises(PipelineRunError) as info:
        bare.run(Pipe)
    assert isinstance(info.value.errors[0], HistoryError)
    assert "no run history" in str(info.value.errors[0])

    class Wrong(ETLStep[Run]):
        events = FromTable("raw.events").incremental(cursor="updated")
        target = IntoTable("staging.wrong").append()

        def execute(self, params: Run, *, events: Any) -> Any:
            return events

    class WrongProc(ETLProcess[Run]):
        steps = [Wrong]

    class WrongPipe(ETLPipeline[Run]):
        processes = [WrongProc]

    with pytest.raises(PipelineCompilationError) as compiled:
        lake.runner().validate(WrongPipe)
    assert "incremental(cursor=...): column 'updated' is not in table raw.events" in str(
        compiled.value
    )
    assert "did you mean 'updated_at'" in str(compiled.value)
