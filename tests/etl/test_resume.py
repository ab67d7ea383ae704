"""Resumable runs: committed steps are skipped, the rest re-run with the same params."""

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
    StepStatus,
    col,
    params,
)
from loom.etl.errors import PipelineRunError, ResumeError  # noqa: E402
from loom.etl.history import RunHistory, StepRow  # noqa: E402

CALLS: dict[str, int] = {}
FAILURES: dict[str, int] = {}


def _called(name: str) -> None:
    CALLS[name] = CALLS.get(name, 0) + 1
    if FAILURES.get(name, 0) > 0:
        FAILURES[name] -= 1
        raise RuntimeError(f"{name} failed on purpose")


@pytest.fixture(autouse=True)
def _reset() -> None:
    CALLS.clear()
    FAILURES.clear()


class Day(ETLParams):
    day: dt.date


class Load(ETLStep[Day]):
    orders = FromTable("raw.orders").where(col("day") == params.day)
    target = IntoTable("staging.orders").append()

    def execute(self, params: Day, *, orders: Any) -> Any:
        _called("Load")
        return orders


class Totals(ETLStep[Day]):
    orders = FromTable("staging.orders")
    target = IntoTable("mart.totals").replace()

    def execute(self, params: Day, *, orders: Any) -> Any:
        _called("Totals")
        return orders.group_by("day").agg(pl.col("amount").sum())


class Export(ETLStep[Day]):
    totals = FromTable("mart.totals")
    target = IntoTable("mart.export").replace()

    def execute(self, params: Day, *, totals: Any) -> Any:
        _called("Export")
        return totals


class Daily(ETLProcess[Day]):
    steps = [Load, Totals, Export]


class DailyPipeline(ETLPipeline[Day]):
    processes = [Daily]


def _seed(lake: Any) -> None:
    days = [dt.date(2024, 5, 1), dt.date(2024, 5, 1), dt.date(2024, 5, 2)]
    lake.write("raw.orders", {"id": [1, 2, 3], "day": days, "amount": [10.0, 5.0, 7.0]})


def _commits(lake: Any, table: str, run_id: str) -> list[dict[str, Any]]:
    from deltalake import DeltaTable

    history = DeltaTable(str(lake.path(table))).history()
    return [h for h in history if h.get("loom.run_id") == run_id]


def test_resume_skips_the_committed_step_and_reruns_the_failed_one(lake: Any) -> None:
    _seed(lake)
    FAILURES["Totals"] = 1
    runner = lake.runner()
    with pytest.raises(PipelineRunError) as info:
        runner.run(DailyPipeline, {"day": "2024-05-01"}, run_id="r1")
    statuses = [(r.name, r.status) for r in info.value.result.steps]
    assert statuses == [
        ("Load", StepStatus.SUCCEEDED),
        ("Totals", StepStatus.FAILED),
        ("Export", StepStatus.SKIPPED),
    ]
    assert runner.history is not None
    assert runner.history.run("r1").status == "failed"  # type: ignore[union-attr]

    result = lake.runner().resume("r1", DailyPipeline)

    assert result.ok
    assert result.run_id == "r1"
    assert result.attempt == 2
    assert [(r.name, r.status) for r in result.steps] == [
        ("Load", StepStatus.REUSED),
        ("Totals", StepStatus.SUCCEEDED),
        ("Export", StepStatus.SUCCEEDED),
    ]
    assert CALLS == {"Load": 1, "Totals": 2, "Export": 1}  # Load did not run again
    assert lake.read("staging.orders", sort="id")["id"].to_list() == [1, 2]  # appended once
    assert lake.read("mart.totals")["amount"].to_list() == [15.0]  # same params: May 1st
    assert len(_commits(lake, "staging.orders", "r1")) == 1
    assert _commits(lake, "mart.totals", "r1")[0]["loom.step"] == "Totals"  # same run id
    run = runner.history.run("r1")
    assert run is not None
    assert (run.status, run.attempt, run.params) == ("succeeded", 2, {"day": "2024-05-01"})
    attempts = [(s.step, s.attempt, s.status) for s in runner.history.steps("r1")]
    assert attempts == [
        ("Load", 1, "succeeded"),
        ("Totals", 1, "failed"),
        ("Export", 1, "skipped"),
        ("Load", 2, "reused"),
        ("Totals", 2, "succeeded"),
        ("Export", 2, "succeeded"),
    ]


class Crash(BaseException):
    """Stands for the process dying (SIGKILL, OOM) at one precise moment."""


class CrashAfterCommit(RunHistory):
    """A history whose write after step ``Load``'s commit never happens."""

    def step_finished(self, row: StepRow, **kwargs: Any) -> None:
        if row.step == "Load" and row.status == "succeeded":
            raise Crash("the process died right after Load committed")
        super().step_finished(row, **kwargs)


def test_a_crash_after_the_commit_and_before_the_history_write_is_still_skipped(
    lake: Any,
) -> None:
    _seed(lake)
    url = f"sqlite:///{lake.root / '_loom_runs.db'}"
    crashing = lake.runner()
    crashing.history = CrashAfterCommit(url)
    with pytest.raises(Crash):
        crashing.run(DailyPipeline, {"day": "2024-05-01"}, run_id="r2")
    history = RunHistory(url)
    load_row = history.latest_steps("r2")[0]
    assert (load_row.step, load_row.status) == ("Load", "running")  # the history missed it
    assert len(_commits(lake, "staging.orders", "r2")) == 1  # but the commit is there
    assert not lake.exists("mart.totals")

    result = lake.runner().resume("r2", DailyPipeline)

    assert [r.status for r in result.steps] == [
        StepStatus.REUSED,
        StepStatus.SUCCEEDED,
        StepStatus.SUCCEEDED,
    ]
    assert CALLS == {"Load": 1, "Totals": 1, "Export": 1}
    assert len(_commits(lake, "staging.orders", "r2")) == 1  # not appended twice
    assert lake.read("staging.orders").height == 2
    reconciled = next(s for s in history.steps("r2") if s.step == "Load" and s.attempt == 1)
    assert reconciled.status == "succeeded"
    assert reconciled.version == lake.version("staging.orders")
    assert result.step("Load").version == reconciled.version
    lineage = [(e.step, e.direction, e.name) for e in history.lineage("r2")]
    assert ("Load", "out", "staging.orders") in lineage


def test_resume_refuses_unknown_runs_other_pipelines_and_runners_without_history(
    lake: Any,
) -> None:
    _seed(lake)
    runner = lake.runner()
    with pytest.raises(ResumeError, match="run nope is not in the run history"):
        runner.resume("nope", DailyPipeline)
    runner.run(DailyPipeline, {"day": "2024-05-01"}, run_id="r3")

    class Other(ETLPipeline[Day]):
        processes = [Daily]

    with pytest.raises(ResumeError, match="ran pipeline DailyPipeline, not Other"):
        runner.resume("r3", Other)
    bare = ETLRunner(runner.backend, runner.storage)
    with pytest.raises(ResumeError, match="keeps no run history"):
        bare.resume("r3", DailyPipeline)


def test_resuming_a_succeeded_run_reruns_nothing(lake: Any) -> None:
    _seed(lake)
    lake.runner().run(DailyPipeline, {"day": "2024-05-02"}, run_id="r4")
    result = lake.runner().resume("r4", DailyPipeline)
    assert {r.status for r in result.steps} == {StepStatus.REUSED}
    assert CALLS == {"Load": 1, "Totals": 1, "Export": 1}
    assert lake.read("mart.totals")["amount"].to_list() == [7.0]


def test_a_run_id_cannot_be_reused_for_a_new_run(lake: Any) -> None:
    from loom.etl.errors import HistoryError

    _seed(lake)
    lake.runner().run(DailyPipeline, {"day": "2024-05-02"}, run_id="r5")
    with pytest.raises(HistoryError, match="run r5 is already in the history"):
        lake.runner().run(DailyPipeline, {"day": "2024-05-02"}, run_id="r5")
    assert CALLS == {"Load": 1, "Totals": 1, "Export": 1}


def test_resume_keeps_the_runs_include(lake: Any) -> None:
    _seed(lake)
    FAILURES["Totals"] = 1
    with pytest.raises(PipelineRunError):
        lake.runner().run(DailyPipeline, {"day": "2024-05-02"}, include=["Load", "Totals"])
    run_id = lake.runner().history.runs("DailyPipeline")[0].run_id
    result = lake.runner().resume(run_id)  # the pipeline class comes from the history
    assert [(r.name, r.status) for r in result.steps] == [
        ("Load", StepStatus.REUSED),
        ("Totals", StepStatus.SUCCEEDED),
    ]
    assert CALLS == {"Load": 1, "Totals": 2}  # the same class, imported from the history
    assert not lake.exists("mart.export")
