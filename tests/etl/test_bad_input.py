"""Bad input gets a clear EtlError naming the step and the column; no target is half-written."""

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
    IntoTable,
    col,
)
from loom.etl.errors import (  # noqa: E402
    EtlError,
    MissingTableError,
    ParamsValidationError,
    PipelineCompilationError,
    PipelineRunError,
    SchemaMismatchError,
    SourceReadError,
    StepExecutionError,
    UnknownColumnError,
)


class Daily(ETLParams):
    run_date: dt.date
    limit: int = 10


def pipeline(step: type) -> type:
    class Proc(ETLProcess[Daily]):
        steps = [step]

    class Pipe(ETLPipeline[Daily]):
        processes = [Proc]

    return Pipe


PARAMS = Daily(run_date=dt.date(2024, 5, 1))


@pytest.fixture
def guarded(lake: Any) -> Any:
    """The lake with a target table whose version and rows must never change."""
    lake.write("staging.orders", {"id": [1], "amount": [1.0]})
    yield lake
    assert lake.version("staging.orders") == 0
    assert lake.read("staging.orders").rows() == [(1, 1.0)]


def test_missing_source_table(guarded: Any) -> None:
    class Load(ETLStep[Daily]):
        orders = FromTable("raw.orders")
        target = IntoTable("staging.orders").replace()

        def execute(self, params: Daily, *, orders: Any) -> Any:
            return orders

    with pytest.raises(PipelineCompilationError) as info:
        guarded.runner().run(pipeline(Load), PARAMS)
    (error,) = info.value.errors
    assert isinstance(error, MissingTableError)
    assert (error.step, error.attribute) == ("Load", "orders")
    assert "table raw.orders does not exist" in str(error)


def test_table_schema_that_does_not_match_the_declared_columns(guarded: Any) -> None:
    guarded.write("raw.orders", {"id": [1], "amount": [2.0]})

    class Load(ETLStep[Daily]):
        orders = FromTable("raw.orders").columns("id", "amount", "currency")
        target = IntoTable("staging.orders").replace()

        def execute(self, params: Daily, *, orders: Any) -> Any:
            return orders

    with pytest.raises(PipelineCompilationError) as info:
        guarded.runner().run(pipeline(Load), PARAMS)
    (error,) = info.value.errors
    assert isinstance(error, UnknownColumnError)
    assert (error.step, error.attribute, error.column) == ("Load", "orders", "currency")
    assert "column 'currency' is not in table raw.orders (columns: id, amount)" in str(error)


def test_file_schema_that_does_not_match_the_declared_columns(guarded: Any) -> None:
    (guarded.base / "orders.csv").write_text("id,amount\n1,2.0\n")

    class Load(ETLStep[Daily]):
        orders = FromFile("orders.csv").columns("id", "amount", "currency")
        target = IntoTable("staging.orders").replace()

        def execute(self, params: Daily, *, orders: Any) -> Any:
            return orders.select("id", "amount")

    with pytest.raises(PipelineRunError) as info:
        guarded.runner().run(pipeline(Load), PARAMS)
    (error,) = info.value.errors
    assert isinstance(error, SchemaMismatchError)
    assert (error.step, error.attribute, error.column) == ("Load", "orders", "currency")
    assert "has no column 'currency' (columns: id, amount)" in str(error)


def test_csv_with_a_bad_row_and_declared_types(guarded: Any) -> None:
    (guarded.base / "orders.csv").write_text("id,amount\n1,2.0\n2,abc\n3,4.0\n")

    class Load(ETLStep[Daily]):
        orders = FromFile("orders.csv", format=Format.CSV).types(amount="float64")
        target = IntoTable("staging.orders").replace()

        def execute(self, params: Daily, *, orders: Any) -> Any:
            return orders

    with pytest.raises(PipelineRunError) as info:
        guarded.runner().run(pipeline(Load), PARAMS)
    (error,) = info.value.errors
    assert isinstance(error, SourceReadError)
    assert (error.step, error.attribute, error.column) == ("Load", "orders", "amount")
    assert "could not parse `abc` as dtype `f64` at column 'amount'" in str(error)
    record = info.value.result.step("Load")
    assert record.status == "failed"
    assert record.error_code == "etl_source_error"


def test_csv_with_a_bad_row_and_inferred_types(guarded: Any) -> None:
    (guarded.base / "orders.csv").write_text("id,amount\n1,2.0\n2,abc\n")

    class Load(ETLStep[Daily]):
        orders = FromFile("orders.csv")
        target = IntoTable("staging.fresh").replace()

        def execute(self, params: Daily, *, orders: Any) -> Any:
            return orders.filter(pl.col("amount") > 0)

    with pytest.raises(PipelineRunError) as info:
        guarded.runner().run(pipeline(Load), PARAMS)
    (error,) = info.value.errors
    assert isinstance(error, StepExecutionError)
    assert (error.step, error.column) == ("Load", "amount")
    assert "cannot compare string with numeric type" in str(error)
    assert not guarded.exists("staging.fresh")


def test_csv_with_a_ragged_row(guarded: Any) -> None:
    (guarded.base / "orders.csv").write_text("id,amount\n1,2.0\n2,3.0,oops\n")

    class Load(ETLStep[Daily]):
        orders = FromFile("orders.csv")
        target = IntoTable("staging.orders").replace()

        def execute(self, params: Daily, *, orders: Any) -> Any:
            return orders

    with pytest.raises(PipelineRunError) as info:
        guarded.runner().run(pipeline(Load), PARAMS)
    (error,) = info.value.errors
    assert isinstance(error, SourceReadError)
    assert (error.step, error.attribute) == ("Load", "orders")
    assert "found more fields than defined" in str(error)


def test_missing_file(guarded: Any) -> None:
    class Load(ETLStep[Daily]):
        orders = FromFile("nowhere.csv")
        target = IntoTable("staging.orders").replace()

        def execute(self, params: Daily, *, orders: Any) -> Any:
            return orders

    with pytest.raises(PipelineRunError) as info:
        guarded.runner().run(pipeline(Load), PARAMS)
    (error,) = info.value.errors
    assert isinstance(error, SourceReadError)
    assert (error.step, error.attribute) == ("Load", "orders")
    assert "nowhere.csv" in str(error)


@pytest.mark.parametrize(
    ("given", "field", "reason"),
    [
        ({"run_date": "yesterday"}, "run_date", "Invalid RFC3339 encoded date"),
        ({"run_date": "2024-05-01", "limit": "ten"}, "limit", "Expected `int`, got `str`"),
        ({"limit": 3}, "", "Object missing required field `run_date`"),
        ({"run_date": "2024-05-01", "limt": 1}, "", "Object contains unknown field `limt`"),
    ],
)
def test_params_that_fail_validation(
    guarded: Any, given: dict[str, Any], field: str, reason: str
) -> None:
    class Load(ETLStep[Daily]):
        target = IntoTable("staging.orders").replace()

        def execute(self, params: Daily) -> Any:
            return pl.LazyFrame({"id": [2], "amount": [2.0]})

    with pytest.raises(ParamsValidationError) as info:
        guarded.runner().run(pipeline(Load), given)
    error = info.value
    assert error.errors[0].field == field
    assert reason in error.errors[0].message
    assert error.pipeline == "Pipe"
    assert error.attribute == "params"


def test_predicate_on_an_unknown_column_of_a_table(guarded: Any) -> None:
    guarded.write("raw.orders", {"id": [1], "amount": [2.0]})

    class Load(ETLStep[Daily]):
        orders = FromTable("raw.orders").where(col("amout") > 0)
        target = IntoTable("staging.orders").replace()

        def execute(self, params: Daily, *, orders: Any) -> Any:
            return orders

    with pytest.raises(PipelineCompilationError) as info:
        guarded.runner().validate(pipeline(Load))
    (error,) = info.value.errors
    assert isinstance(error, UnknownColumnError)
    assert (error.step, error.attribute, error.column) == ("Load", "orders", "amout")
    assert "where(): column 'amout' is not in table raw.orders" in str(error)


def test_predicate_on_an_unknown_column_of_a_file(guarded: Any) -> None:
    (guarded.base / "orders.parquet").write_bytes(b"")
    pl.DataFrame({"id": [1], "amount": [2.0]}).write_parquet(guarded.base / "orders.parquet")

    class Load(ETLStep[Daily]):
        orders = FromFile("orders.parquet").where(col("amout") > 0)
        target = IntoTable("staging.orders").replace()

        def execute(self, params: Daily, *, orders: Any) -> Any:
            return orders

    with pytest.raises(PipelineRunError) as info:
        guarded.runner().run(pipeline(Load), PARAMS)
    (error,) = info.value.errors
    assert isinstance(error, UnknownColumnError)
    assert (error.step, error.attribute, error.column) == ("Load", "orders", "amout")


def test_every_error_is_an_etl_error_with_a_fix(guarded: Any) -> None:
    class Load(ETLStep[Daily]):
        orders = FromTable("raw.nothing")
        target = IntoTable("staging.orders").replace()

        def execute(self, params: Daily, *, orders: Any) -> Any:
            return orders

    with pytest.raises(EtlError) as info:
        guarded.runner().run(pipeline(Load), PARAMS)
    assert all(e.fix for e in info.value.errors)  # type: ignore[attr-defined]
