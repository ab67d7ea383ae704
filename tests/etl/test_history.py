"""Run history: runs and steps, lineage (and its Mermaid form), listing, display, config."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest

pl = pytest.importorskip("polars")
pytest.importorskip("deltalake")

from rich.console import Console  # noqa: E402

from loom.core.errors import ConfigurationError  # noqa: E402
from loom.etl import (  # noqa: E402
    ETLParams,
    ETLPipeline,
    ETLProcess,
    ETLRunner,
    ETLStep,
    FromFile,
    FromTable,
    IntoFile,
    IntoTable,
    col,
    params,
)
from loom.etl.compiler import ExecutionPlan, StepPlan  # noqa: E402
from loom.etl.errors import PipelineRunError  # noqa: E402
from loom.etl.history import RunHistory, lineage_mermaid  # noqa: E402
from loom.etl.runner import RichDisplay, RunResult, StepRecord  # noqa: E402


class Day(ETLParams):
    day: dt.date


class Clean(ETLStep[Day]):
    orders = FromTable("raw.orders").where(col("day") == params.day)
    rates = FromFile("data/rates.csv")
    target = IntoTable("staging.orders").replace()

    def execute(self, params: Day, *, orders: Any, rates: Any) -> Any:
        return orders.join(rates, on="currency").with_columns(eur=pl.col("amount") * pl.col("rate"))


class Export(ETLStep[Day]):
    orders = FromTable("staging.orders")
    target = IntoFile("out/orders.csv")

    def execute(self, params: Day, *, orders: Any) -> Any:
        if params.day.day == 31:
            raise RuntimeError("no exports on the 31st")
        return orders.select("id", "eur")


class Proc(ETLProcess[Day]):
    steps = [Clean, Export]


class Orders(ETLPipeline[Day]):
    processes = [Proc]


def _seed(lake: Any) -> None:
    day = dt.date(2024, 5, 1)
    lake.write(
        "raw.orders",
        {"id": [1, 2, 3], "day": [day, day, dt.date(2024, 5, 2)], "amount": [10.0, 20.0, 30.0],
         "currency": ["usd", "gbp", "usd"]},
    )  # fmt: skip
    rates = lake.base / "data" / "rates.csv"
    rates.parent.mkdir()
    rates.write_text("currency,rate\nusd,0.5\ngbp,2.0\n")


def test_lineage_records_what_each_step_read_and_wrote(lake: Any) -> None:
    _seed(lake)
    runner = lake.runner()
    result = runner.run(Orders, {"day": "2024-05-01"}, run_id="lin")
    assert runner.history is not None
    edges = [(e.step, e.direction, e.kind, e.name, e.rows, e.version) for e in
             runner.history.lineage("lin")]  # fmt: skip
    assert edges == [
        ("Clean", "in", "table", "raw.orders", 2, 0),  # the day's 2 rows, at version 0
        ("Clean", "in", "file", "data/rates.csv", 2, None),
        ("Clean", "out", "table", "staging.orders", 2, 0),
        ("Export", "in", "table", "staging.orders", 2, 0),
        ("Export", "out", "file", "out/orders.csv", 2, None),
    ]
    assert result.step("Clean").version == 0
    chart = lineage_mermaid(runner.history.lineage("lin"))
    assert chart.splitlines()[0] == "flowchart LR"
    assert '    t_raw_orders[("raw.orders")]' in chart
    assert '    f_data_rates_csv[/"data/rates.csv"/]' in chart
    assert '    t_raw_orders -->|"2 rows, v0"| s_Clean' in chart
    assert '    s_Clean -->|"2 rows, v0"| t_staging_orders' in chart
    assert '    s_Export -->|"2 rows"| f_out_orders_csv' in chart


def test_runs_and_step_attempts_are_listed_newest_first(lake: Any) -> None:
    _seed(lake)
    runner = lake.runner()
    runner.run(Orders, {"day": "2024-05-01"}, run_id="a")
    with pytest.raises(PipelineRunError):
        runner.run(Orders, {"day": "2024-05-31"}, run_id="b")
    runner.run(Orders, {"day": "2024-05-02"}, run_id="c")
    history = runner.history
    assert history is not None
    runs = history.runs("Orders")
    assert [(r.run_id, r.status) for r in runs] == [
        ("c", "succeeded"),
        ("b", "failed"),
        ("a", "succeeded"),
    ]
    assert [r.run_id for r in history.runs("Orders", limit=1)] == ["c"]
    assert history.runs("Nope") == []
    failed = history.run("b")
    assert failed is not None
    assert failed.params == {"day": "2024-05-31"}
    assert "no exports on the 31st" in (failed.error or "")
    assert failed.duration_s is not None
    assert failed.duration_s >= 0
    steps = {s.step: s for s in history.latest_steps("b")}
    assert steps["Clean"].status == "succeeded"
    assert steps["Clean"].rows_written == 0
    assert steps["Export"].status == "failed"
    assert steps["Export"].error_code == "etl_step_failed"
    assert [e.step for e in history.lineage("b")] == ["Clean", "Clean", "Clean"]  # no Export


def test_the_history_lives_under_the_root_by_default_and_can_be_moved_or_disabled(
    lake: Any,
) -> None:
    assert lake.runner().history.path == str(lake.root / "_loom_runs.db")
    moved = ETLRunner.from_config(
        {"storage": {"root": "./lake"}, "history": {"url": "sqlite:///./elsewhere/runs.db"}}
    )
    assert moved.history is not None
    assert moved.history.path == str(lake.base / "elsewhere" / "runs.db")
    off = ETLRunner.from_config({"storage": {"root": "./lake"}, "history": {"enabled": False}})
    assert off.history is None
    with pytest.raises(ConfigurationError, match="loom-etl keeps run history in SQLite"):
        ETLRunner.from_config({"history": {"url": "postgresql://db/etl"}})
    memory = RunHistory("sqlite:///:memory:")
    assert memory.runs() == []


class Recorder:
    def __init__(self) -> None:
        self.events: list[str] = []

    def run_started(self, plan: ExecutionPlan, run_id: str) -> None:
        self.events.append(f"run {plan.name} {run_id}")

    def step_started(self, step: StepPlan) -> None:
        self.events.append(f"start {step.name}")

    def step_finished(self, record: StepRecord) -> None:
        self.events.append(f"end {record.name} {record.status.value}")

    def run_finished(self, result: RunResult) -> None:
        self.events.append(f"done {result.status.value}")


def test_listeners_and_the_rich_display_follow_the_run(lake: Any) -> None:
    _seed(lake)
    listener = Recorder()
    out = io.StringIO()
    display = RichDisplay(Console(file=out, width=120, force_terminal=True), progress=True)
    runner = ETLRunner.from_yaml(lake.config, listeners=[listener, display], show=False)
    result = runner.run(Orders, {"day": "2024-05-01"}, run_id="shown")
    assert listener.events == [
        "run Orders shown",
        "start Clean",
        "end Clean succeeded",
        "start Export",
        "end Export succeeded",
        "done succeeded",
    ]
    text = out.getvalue()
    assert "run shown of Orders" in text  # the summary table's title
    assert "staging.orders" in text
    recorded = Console(record=True, width=120)
    recorded.print(result)
    table = recorded.export_text()
    assert "Clean" in table
    assert "succeeded" in table
    assert "table staging.orders" in table
    bundle = result._repr_mimebundle_()
    assert "<pre" in bundle["text/html"]
    assert "Export" in bundle["text/plain"]
