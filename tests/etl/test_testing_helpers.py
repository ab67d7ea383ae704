"""loom.etl.testing: PolarsStepRunner, ETLScenario and the row/schema assertions."""

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
    ETLStep,
    Format,
    FromFile,
    FromTable,
    IntoFile,
    IntoTable,
    col,
    params,
)
from loom.etl.errors import DuplicateKeyError, StepExecutionError  # noqa: E402
from loom.etl.testing import (  # noqa: E402
    ETLScenario,
    PolarsStepRunner,
    assert_rows,
    assert_schema,
)

MAY_1 = dt.date(2024, 5, 1)


class Day(ETLParams):
    run_date: dt.date


class CleanOrders(ETLStep[Day]):
    orders = FromTable("raw.orders").columns("id", "amount", "run_date")
    target = IntoTable("staging.orders").replace()

    def execute(self, params: Day, *, orders: Any) -> Any:
        return orders.filter(pl.col("amount") > 0)


class Customers(ETLStep[Day]):
    customers = FromFile.alias("customers_csv", format=Format.CSV).types(id="int64", name="string")
    target = IntoTable("dim.customers").upsert(keys=("id",))

    def execute(self, params: Day, *, customers: Any) -> Any:
        return customers


class DayTotals(ETLStep[Day]):
    orders = FromTable("staging.orders").where(col("run_date") == params.run_date)
    target = IntoFile("out/totals.parquet")

    def execute(self, params: Day, *, orders: Any) -> Any:
        return orders.group_by("run_date").agg(total=pl.col("amount").sum())


class Daily(ETLProcess[Day]):
    steps = [CleanOrders, DayTotals]


class DailyPipeline(ETLPipeline[Day]):
    processes = [Daily]


def test_step_runner_seeds_sources_runs_the_step_and_checks_rows_and_schema() -> None:
    with PolarsStepRunner(CleanOrders, {"run_date": "2024-05-01"}) as runner:
        runner.seed(
            "orders",
            [
                {"id": 1, "amount": 10.0, "run_date": MAY_1, "note": "kept out by columns()"},
                {"id": 2, "amount": -3.0, "run_date": MAY_1, "note": "refund"},
            ],
        )
        result = runner.run()
        result.assert_rows([{"id": 1, "amount": 10.0, "run_date": MAY_1}])
        result.assert_schema({"id": "int64", "amount": "float64", "run_date": "date"})
        assert result.record.rows_written == 1
        assert result.rows == [{"id": 1, "amount": 10.0, "run_date": MAY_1}]
        with pytest.raises(AssertionError, match=r"missing .*'id': 2"):
            result.assert_rows([{"id": 1, "amount": 10.0, "run_date": MAY_1},
                                {"id": 2, "amount": -3.0, "run_date": MAY_1}])  # fmt: skip
        with pytest.raises(AssertionError, match="column 'amount' is Float64, expected Int64"):
            result.assert_schema({"id": "int64", "amount": "int64", "run_date": "date"})
        with pytest.raises(KeyError, match="has no source 'order'"):
            runner.seed("order", [])


def test_step_runner_seeds_file_aliases_and_the_target_and_raises_the_step_error() -> None:
    runner = PolarsStepRunner(Customers, {"run_date": MAY_1})
    try:
        runner.seed_target([{"id": 1, "name": "old"}, {"id": 3, "name": "kept"}])
        runner.seed("customers", [{"id": 1, "name": "new"}, {"id": 2, "name": "added"}])
        result = runner.run()
        result.assert_rows(
            [{"id": 1, "name": "new"}, {"id": 2, "name": "added"}, {"id": 3, "name": "kept"}]
        )
        assert result.record.rows_written == 2  # one update, one insert
        runner.seed("customers", [{"id": 5, "name": "a"}, {"id": 5, "name": "b"}])
        with pytest.raises(DuplicateKeyError, match="share key values"):
            runner.run()
    finally:
        runner.close()


def test_step_runner_reports_a_failing_execute() -> None:
    class Broken(ETLStep[Day]):
        orders = FromTable("raw.orders")
        target = IntoTable("t.broken").replace()

        def execute(self, params: Day, *, orders: Any) -> Any:
            raise ValueError("bad logic")

    with PolarsStepRunner(Broken, {"run_date": MAY_1}) as runner:
        runner.seed("orders", {"id": [1]})
        with pytest.raises(StepExecutionError, match="execute raised ValueError: bad logic"):
            runner.run()


def test_scenario_runs_a_pipeline_on_a_small_lake(tmp_path: Any) -> None:
    scenario = ETLScenario(tmp_path)
    scenario.table(
        "raw.orders",
        {"id": [1, 2, 3], "amount": [5.0, -1.0, 7.0], "run_date": [MAY_1, MAY_1, MAY_1]},
    )
    result = scenario.run(DailyPipeline, {"run_date": "2024-05-01"})
    assert result.ok
    scenario.assert_table(
        "staging.orders",
        [{"id": 1, "amount": 5.0, "run_date": MAY_1}, {"id": 3, "amount": 7.0, "run_date": MAY_1}],
    )
    assert_rows(scenario.read_file("out/totals.parquet"), [{"run_date": MAY_1, "total": 12.0}])
    with pytest.raises(AssertionError, match=r"table staging.orders: rows differ"):
        scenario.assert_table("staging.orders", [{"id": 1, "amount": 5.0, "run_date": MAY_1}])
    assert [r.run_id for r in scenario.history.runs("DailyPipeline")] == [result.run_id]
    assert (tmp_path / "lake" / "_loom_runs.db").exists()
    scenario.close()
    assert tmp_path.exists()  # a folder it was given is left in place


def test_scenario_in_a_temporary_folder_is_removed_on_close() -> None:
    with ETLScenario() as scenario:
        base = scenario.base
        path = scenario.file("data/x.csv", [{"a": 1}])
        assert path.read_text().startswith("a\n1")
        assert_rows(scenario.read_file("data/x.csv"), {"a": [1]})
    assert not base.exists()


def test_assertions_compare_values_not_types_and_show_differences() -> None:
    frame = pl.DataFrame({"id": [1, 2], "tags": [["a"], ["b", "c"]]})
    assert_rows(frame, [{"id": 2.0, "tags": ["b", "c"]}, {"id": 1, "tags": ["a"]}])
    with pytest.raises(AssertionError, match=r"rows differ \(in order\)"):
        assert_rows(frame, [{"id": 2, "tags": ["b", "c"]}, {"id": 1, "tags": ["a"]}],
                    ordered=True)  # fmt: skip
    with pytest.raises(AssertionError, match=r"columns differ: expected \['id'\]"):
        assert_rows(frame, [{"id": 1}, {"id": 2}])
    assert_rows(frame, [{"id": 1}, {"id": 2}], columns=["id"])
    with pytest.raises(AssertionError, match="unexpected column 'tags'"):
        assert_schema(frame, {"id": pl.Int64})
    assert_schema(frame, {"id": pl.Int64}, exact=False)


class NewEvents(ETLStep[Day]):
    events = FromTable("raw.events").incremental(cursor="seq")
    target = IntoTable("staging.events").append()

    def execute(self, params: Day, *, events: Any) -> Any:
        return events


def test_step_runner_runs_an_incremental_step_twice() -> None:
    with PolarsStepRunner(NewEvents, {"run_date": MAY_1}) as runner:
        runner.seed("events", {"seq": [1, 2], "kind": ["a", "b"]})
        assert runner.run().record.rows_read == 2
        runner.seed("events", {"seq": [3], "kind": ["c"]}, append=True)
        second = runner.run()
        assert second.record.rows_read == 1
        second.assert_rows({"seq": [1, 2, 3], "kind": ["a", "b", "c"]})


class Prices(ETLStep[Day]):
    prices = FromTable("raw.prices")
    target = IntoTable("dim.prices").upsert(keys=("sku", "region"))

    def execute(self, params: Day, *, prices: Any) -> Any:
        return prices


def test_a_composite_key_upsert_drops_exact_duplicates_and_rejects_clashes() -> None:
    with PolarsStepRunner(Prices, {"run_date": MAY_1}) as runner:
        runner.seed_target({"sku": [1, 1], "region": ["eu", "us"], "price": [1.0, 2.0]})
        rows = {"sku": [1, 1, 2], "region": ["us", "us", "eu"], "price": [3.0, 3.0, 4.0]}
        runner.seed("prices", rows)
        result = runner.run()
        result.assert_rows(
            {"sku": [1, 1, 2], "region": ["eu", "us", "eu"], "price": [1.0, 3.0, 4.0]}
        )
        assert result.record.rows_written == 2  # the repeated row counted once
        runner.seed("prices", {"sku": [7, 7], "region": ["eu", "eu"], "price": [1.0, 2.0]})
        with pytest.raises(DuplicateKeyError, match=r"share key values \(sku, region\)"):
            runner.run()
