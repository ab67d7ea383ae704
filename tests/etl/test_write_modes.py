"""Every write mode on Delta, schema modes, and one atomic commit per step."""

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
    IntoTable,
    col,
    params,
)
from loom.etl.errors import (  # noqa: E402
    DuplicateKeyError,
    PipelineRunError,
    RowsOutsidePredicateError,
    SchemaMismatchError,
    StepExecutionError,
)


class Day(ETLParams):
    day: dt.date = dt.date(2024, 5, 1)


def producing(target: Any, rows: Any, name: str = "Produce") -> type:
    """A one-step pipeline whose step returns ``rows``, or ``rows(params)`` when callable.

    A dict becomes a LazyFrame and a DataFrame is made lazy; anything else is returned as is.
    """

    class Produce(ETLStep[Day]):
        def execute(self, params: Day) -> Any:
            data = rows(params) if callable(rows) else rows
            if isinstance(data, dict):
                return pl.LazyFrame(data)
            return data.lazy() if isinstance(data, pl.DataFrame) else data

    Produce.target = target  # type: ignore[attr-defined]
    Produce.__name__ = Produce.__qualname__ = name

    class Proc(ETLProcess[Day]):
        steps = [Produce]

    class Pipe(ETLPipeline[Day]):
        processes = [Proc]

    return Pipe


def failing_run(lake: Any, pipeline: type, table: str, **kwargs: Any) -> PipelineRunError:
    """Run ``pipeline``, expect it to fail, and check ``table`` did not change at all."""
    version = lake.version(table)
    before = lake.read(table)
    with pytest.raises(PipelineRunError) as info:
        lake.runner().run(pipeline, **kwargs)
    assert lake.version(table) == version
    assert lake.read(table).equals(before)
    return info.value


def test_replace_overwrites_the_table_with_run_metadata(lake: Any) -> None:
    lake.write("t.x", {"id": [1, 2, 3], "v": ["a", "b", "c"]})
    result = lake.runner().run(
        producing(IntoTable("t.x").replace(), {"id": [7], "v": ["z"]}), run_id="run-1"
    )
    assert lake.read("t.x").to_dicts() == [{"id": 7, "v": "z"}]
    record = result.step("Produce")
    assert (record.rows_written, record.version) == (1, 1)
    commit = lake.last_commit("t.x")
    assert commit["loom.run_id"] == "run-1"
    assert commit["loom.step"] == "Produce"
    assert commit["loom.pipeline"] == "Pipe"
    assert commit["loom.write_mode"] == "replace"


def test_replace_creates_a_missing_table(lake: Any) -> None:
    result = lake.runner().run(producing(IntoTable("new.t").replace(), {"id": [1, 2]}))
    assert lake.read("new.t", sort="id")["id"].to_list() == [1, 2]
    assert result.step("Produce").version == 0


def test_append_adds_rows(lake: Any) -> None:
    lake.write("t.x", {"id": [1], "v": ["a"]})
    lake.runner().run(producing(IntoTable("t.x").append(), {"id": [2], "v": ["b"]}))
    assert lake.read("t.x", sort="id")["id"].to_list() == [1, 2]
    assert lake.last_commit("t.x")["loom.write_mode"] == "append"


def test_replace_partition_keeps_other_partitions(lake: Any) -> None:
    lake.write(
        "t.sales",
        {"year": [2024, 2024, 2023], "month": [5, 4, 5], "amount": [1, 2, 3]},
        partition_by=["year", "month"],
    )
    target = IntoTable("t.sales").replace_partition(year=params.day.year, month=params.day.month)
    pipeline = producing(target, {"year": [2024, 2024], "month": [5, 5], "amount": [10, 11]})
    lake.runner().run(pipeline, Day(day=dt.date(2024, 5, 1)))
    rows = lake.read("t.sales", sort=["year", "month", "amount"]).rows()
    assert rows == [(2023, 5, 3), (2024, 4, 2), (2024, 5, 10), (2024, 5, 11)]


def test_replace_partition_rejects_rows_outside_the_partition(lake: Any) -> None:
    lake.write("t.sales", {"year": [2024], "amount": [1]}, partition_by=["year"])
    target = IntoTable("t.sales").replace_partition(year=params.day.year)
    pipeline = producing(target, {"year": [2024, 2023], "amount": [5, 6]})
    error = failing_run(lake, pipeline, "t.sales", params=Day(day=dt.date(2024, 1, 1)))
    (cause,) = error.errors
    assert isinstance(cause, RowsOutsidePredicateError)
    assert cause.step == "Produce"
    assert cause.column == "year"
    assert "1 output row(s) fall outside replace_partition(col('year') == 2024)" in str(cause)
    assert "'year': 2023" in str(cause)


def test_replace_partitions_overwrites_exactly_the_partitions_in_the_data(lake: Any) -> None:
    lake.write(
        "t.sales",
        {"region": ["eu", "us", "apac", "eu"], "amount": [1, 2, 3, 4]},
        partition_by=["region"],
    )
    pipeline = producing(
        IntoTable("t.sales").replace_partitions("region"),
        {"region": ["eu", "us", "us"], "amount": [10, 20, 21]},
    )
    result = lake.runner().run(pipeline)
    rows = lake.read("t.sales", sort=["region", "amount"]).rows()
    assert rows == [("apac", 3), ("eu", 10), ("us", 20), ("us", 21)]
    assert result.step("Produce").rows_written == 3


def test_replace_partitions_by_two_columns(lake: Any) -> None:
    lake.write(
        "t.sales",
        {"y": [2024, 2024, 2024], "m": [1, 2, 3], "amount": [1, 2, 3]},
        partition_by=["y", "m"],
    )
    pipeline = producing(
        IntoTable("t.sales").replace_partitions("y", "m"), {"y": [2024], "m": [2], "amount": [9]}
    )
    lake.runner().run(pipeline)
    assert lake.read("t.sales", sort="m")["amount"].to_list() == [1, 9, 3]


def test_replace_partitions_with_no_rows_changes_nothing(lake: Any) -> None:
    lake.write("t.sales", {"region": ["eu"], "amount": [1]})
    pipeline = producing(
        IntoTable("t.sales").replace_partitions("region"),
        pl.DataFrame(schema={"region": pl.String, "amount": pl.Int64}),
    )
    result = lake.runner().run(pipeline)
    assert lake.version("t.sales") == 0
    assert result.step("Produce").rows_written == 0


def test_replace_where_replaces_only_matching_rows(lake: Any) -> None:
    lake.write("t.events", {"day": [dt.date(2024, 5, 1), dt.date(2024, 5, 2)], "n": [1, 2]})
    pipeline = producing(
        IntoTable("t.events").replace_where(col("day") == params.day),
        lambda p: {"day": [p.day, p.day], "n": [7, 8]},
    )
    lake.runner().run(pipeline, Day(day=dt.date(2024, 5, 2)))
    rows = lake.read("t.events", sort=["day", "n"]).rows()
    assert rows == [(dt.date(2024, 5, 1), 1), (dt.date(2024, 5, 2), 7), (dt.date(2024, 5, 2), 8)]


def test_replace_where_rejects_rows_outside_the_predicate(lake: Any) -> None:
    lake.write("t.events", {"day": [dt.date(2024, 5, 1)], "n": [1]})
    pipeline = producing(
        IntoTable("t.events").replace_where(col("day") == params.day),
        {"day": [dt.date(2024, 5, 2), dt.date(2024, 5, 3)], "n": [7, 8]},
    )
    error = failing_run(lake, pipeline, "t.events", params=Day(day=dt.date(2024, 5, 2)))
    (cause,) = error.errors
    assert isinstance(cause, RowsOutsidePredicateError)
    assert "nothing was written" in str(cause)
    assert cause.code == "etl_rows_outside_predicate"


def test_replace_where_counts_null_as_outside(lake: Any) -> None:
    lake.write("t.events", {"day": [dt.date(2024, 5, 1)], "n": [1]})
    pipeline = producing(
        IntoTable("t.events").replace_where(col("day") == params.day),
        pl.DataFrame({"day": [None], "n": [1]}, schema={"day": pl.Date, "n": pl.Int64}),
    )
    error = failing_run(lake, pipeline, "t.events")
    assert isinstance(error.errors[0], RowsOutsidePredicateError)


def test_upsert_updates_matches_and_inserts_the_rest(lake: Any) -> None:
    lake.write("dim.customers", {"id": [1, 2], "name": ["ann", "bob"]})
    pipeline = producing(
        IntoTable("dim.customers").upsert(keys=("id",)),
        {"id": [2, 3, 3], "name": ["bobby", "cid", "cid"]},  # exact duplicate of 3: dropped
    )
    result = lake.runner().run(pipeline)
    rows = lake.read("dim.customers", sort="id").rows()
    assert rows == [(1, "ann"), (2, "bobby"), (3, "cid")]
    assert result.step("Produce").rows_written == 2  # 1 updated + 1 inserted
    assert lake.last_commit("dim.customers")["operation"] == "MERGE"


def test_upsert_with_update_columns_leaves_other_columns(lake: Any) -> None:
    lake.write("dim.c", {"id": [1], "name": ["ann"], "tier": ["gold"]})
    pipeline = producing(
        IntoTable("dim.c").upsert(keys="id", update_columns=("name",)),
        {"id": [1], "name": ["anne"], "tier": ["bronze"]},
    )
    lake.runner().run(pipeline)
    assert lake.read("dim.c").rows() == [(1, "anne", "gold")]


def test_upsert_rejects_different_rows_with_the_same_key(lake: Any) -> None:
    lake.write("dim.customers", {"id": [1], "name": ["ann"]})
    pipeline = producing(
        IntoTable("dim.customers").upsert(keys=("id",)), {"id": [5, 5], "name": ["x", "y"]}
    )
    error = failing_run(lake, pipeline, "dim.customers")
    (cause,) = error.errors
    assert isinstance(cause, DuplicateKeyError)
    assert cause.column == "id"
    assert "2 different output rows share key values (id)" in str(cause)


def test_upsert_rejects_null_keys(lake: Any) -> None:
    lake.write("dim.customers", {"id": [1], "name": ["ann"]})
    pipeline = producing(
        IntoTable("dim.customers").upsert(keys=("id",)),
        pl.DataFrame({"id": [None], "name": ["x"]}, schema={"id": pl.Int64, "name": pl.String}),
    )
    error = failing_run(lake, pipeline, "dim.customers")
    assert "have a null key" in str(error.errors[0])


def test_upsert_creates_a_missing_table(lake: Any) -> None:
    lake.runner().run(producing(IntoTable("dim.new").upsert(keys=("id",)), {"id": [1, 1]}))
    assert lake.read("dim.new")["id"].to_list() == [1]


def test_strict_schema_rejects_extra_missing_and_mistyped_columns(lake: Any) -> None:
    lake.write("t.x", {"id": [1], "v": ["a"]})
    pipeline = producing(IntoTable("t.x").append(), {"id": ["not-an-int"], "extra": [1]})
    error = failing_run(lake, pipeline, "t.x")
    (cause,) = error.errors
    assert isinstance(cause, SchemaMismatchError)
    text = str(cause)
    assert "column 'id' is String but the table has Int64" in text
    assert "column 'extra' (Int64) is not in the table" in text
    assert "column 'v' of the table is missing from the output" in text
    assert cause.column == "id"
    assert "schema='evolve'" in (cause.fix or "")


def test_strict_schema_widens_safely_and_reorders(lake: Any) -> None:
    lake.write("t.x", {"id": [1], "v": ["a"]})
    frame = pl.DataFrame({"v": ["b"], "id": [2]}, schema={"v": pl.String, "id": pl.Int32})
    lake.runner().run(producing(IntoTable("t.x").append(), frame))
    assert lake.read("t.x", sort="id").rows() == [(1, "a"), (2, "b")]


def test_evolve_adds_columns(lake: Any) -> None:
    lake.write("t.x", {"id": [1], "v": ["a"]})
    pipeline = producing(IntoTable("t.x").append(schema="evolve"), {"id": [2], "w": [True]})
    lake.runner().run(pipeline)
    table = lake.read("t.x", sort="id")
    assert table.columns == ["id", "v", "w"]
    assert table.rows() == [(1, "a", None), (2, None, True)]


def test_overwrite_replaces_the_schema(lake: Any) -> None:
    lake.write("t.x", {"id": [1], "v": ["a"]})
    pipeline = producing(IntoTable("t.x").replace(schema="overwrite"), {"other": [1.5]})
    lake.runner().run(pipeline)
    assert lake.read("t.x").to_dicts() == [{"other": 1.5}]


def test_an_execute_error_leaves_the_target_unchanged(lake: Any) -> None:
    lake.write("t.x", {"id": [1]})

    def boom(params: Any) -> Any:
        raise ValueError("bad business logic")

    error = failing_run(lake, producing(IntoTable("t.x").replace(), boom), "t.x")
    (cause,) = error.errors
    assert isinstance(cause, StepExecutionError)
    assert cause.attribute == "execute"
    assert "execute raised ValueError: bad business logic" in str(cause)
    assert isinstance(cause.__cause__, ValueError)


def test_a_failure_while_streaming_leaves_the_target_unchanged(lake: Any) -> None:
    lake.write("t.x", {"id": [1], "v": [1]})
    # the second batch fails to cast long after the first one was streamed to Delta
    frame = pl.LazyFrame({"id": list(range(200_000)), "v": ["1"] * 199_999 + ["x"]})
    pipeline = producing(
        IntoTable("t.x").replace(),
        lambda p: frame.with_columns(pl.col("v").cast(pl.Int64, strict=True)).collect(),
    )
    failing_run(lake, pipeline, "t.x")
    lazy = producing(
        IntoTable("t.x").replace(),
        lambda p: frame.with_columns(pl.col("v").cast(pl.Int64, strict=True)),
    )
    error = failing_run(lake, lazy, "t.x")
    (cause,) = error.errors
    assert isinstance(cause, StepExecutionError)
    assert "conversion from `str` to `i64` failed" in str(cause)
    assert cause.column == "v"


def test_a_step_returning_the_wrong_type_is_a_clear_error(lake: Any) -> None:
    lake.write("t.x", {"id": [1]})
    pipeline = producing(IntoTable("t.x").replace(), lambda p: [1, 2])
    error = failing_run(lake, pipeline, "t.x")
    assert "execute returned builtins.list, not a polars LazyFrame" in str(error.errors[0])


class At(ETLParams):
    at: dt.datetime


def test_replace_where_with_a_timezone_aware_param(lake: Any) -> None:
    utc = dt.UTC
    hours = [dt.datetime(2024, 5, 1, h, tzinfo=utc) for h in (0, 1)]
    lake.write("t.hourly", {"hour": hours, "n": [1, 2]})

    class Hourly(ETLStep[At]):
        target = IntoTable("t.hourly").replace_where(col("hour") == params.at)

        def execute(self, params: At) -> Any:
            return pl.LazyFrame({"hour": [params.at], "n": [20]}).with_columns(
                pl.col("hour").dt.convert_time_zone("UTC")
            )

    class Proc(ETLProcess[At]):
        steps = [Hourly]

    class Pipe(ETLPipeline[At]):
        processes = [Proc]

    one_am_in_paris = dt.datetime(2024, 5, 1, 3, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    lake.runner().run(Pipe, At(at=one_am_in_paris))
    assert lake.read("t.hourly", sort="hour")["n"].to_list() == [1, 20]
