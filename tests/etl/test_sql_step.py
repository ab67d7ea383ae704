"""``StepSQL``: queries over the step's sources with params bound as typed literals."""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

import pytest

pl = pytest.importorskip("polars")
pytest.importorskip("deltalake")

from loom.etl import (  # noqa: E402
    ETLParams,
    ETLPipeline,
    ETLProcess,
    FromTable,
    IntoTable,
    StepSQL,
)
from loom.etl.backend import BoundSql  # noqa: E402
from loom.etl.delta._sql import render_sql, sql_literal  # noqa: E402
from loom.etl.dsl._expr import Lit  # noqa: E402
from loom.etl.errors import PipelineRunError, StepExecutionError, UnknownColumnError  # noqa: E402


class Query(ETLParams):
    customer: str
    day: dt.date = dt.date(2024, 5, 1)
    regions: tuple[str, ...] = ("eu", "us")
    min_amount: float = 0.0


class Totals(StepSQL[Query]):
    orders = FromTable("raw.orders")
    target = IntoTable("mart.totals").replace()
    sql = """
        SELECT customer, region, SUM(amount) AS total
        FROM orders
        WHERE customer = :customer      -- a string with a quote in it
          AND day = :day
          AND region IN :regions
          AND amount > :min_amount
          AND note <> ':customer'       -- not a placeholder: inside a string
        GROUP BY customer, region
    """


class Proc(ETLProcess[Query]):
    steps = [Totals]


class Pipe(ETLPipeline[Query]):
    processes = [Proc]


@pytest.fixture
def orders(lake: Any) -> Any:
    lake.write(
        "raw.orders",
        {
            "customer": ["O'Brien", "O'Brien", "O'Brien", "x' OR '1'='1", "bob"],
            "region": ["eu", "us", "apac", "eu", "eu"],
            "day": [dt.date(2024, 5, 1)] * 4 + [dt.date(2024, 5, 2)],
            "amount": [10.0, 5.0, 7.0, 1.0, 3.0],
            "note": ["", "", "", "", ""],
        },
    )
    return lake


def test_params_are_bound_as_typed_literals_including_a_quote(orders: Any) -> None:
    result = orders.runner().run(Pipe, Query(customer="O'Brien", min_amount=4.5))
    rows = orders.read("mart.totals", sort="region").rows()
    assert rows == [("O'Brien", "eu", 10.0), ("O'Brien", "us", 5.0)]
    assert result.step("Totals").rows_read == 2  # the WHERE was pushed into the Delta scan


def test_an_injection_attempt_is_just_a_string(orders: Any) -> None:
    orders.runner().run(Pipe, Query(customer="nobody' OR '1'='1"))
    assert orders.read("mart.totals").height == 0
    orders.runner().run(Pipe, Query(customer="x' OR '1'='1"))
    assert orders.read("mart.totals")["customer"].to_list() == ["x' OR '1'='1"]


def test_the_plan_shows_the_bound_values(orders: Any) -> None:
    plan = orders.runner().validate(Pipe, Query(customer="O'Brien"))
    assert (
        'sql   binds params.customer="O\'Brien", params.day=datetime.date(2024, 5, 1), '
        "params.regions=('eu', 'us'), params.min_amount=0.0" in str(plan)
    )


@pytest.mark.parametrize(
    ("value", "literal"),
    [
        (None, "NULL"),
        (True, "TRUE"),
        (42, "42"),
        (-7, "-7"),
        (1.5, "CAST(1.5 AS DOUBLE)"),
        (decimal.Decimal("12.340"), "CAST('12.340' AS DECIMAL(38, 3))"),
        ("it's", "'it''s'"),
        ("back\\slash", "'back\\slash'"),
        (dt.date(2024, 5, 1), "DATE '2024-05-01'"),
        (dt.datetime(2024, 5, 1, 10, 30), "CAST('2024-05-01 10:30:00' AS TIMESTAMP)"),
        (
            dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=2))),
            "CAST('2024-05-01 10:00:00+00:00' AS TIMESTAMPTZ)",
        ),
        (dt.time(8, 15), "CAST('08:15:00' AS TIME)"),
        (["a", "b'c"], "('a', 'b''c')"),
    ],
)
def test_literal_rendering(value: Any, literal: str) -> None:
    assert sql_literal(value) == literal


@pytest.mark.parametrize("value", [float("nan"), float("inf"), [], object(), "nul\x00"])
def test_values_without_a_safe_literal_are_refused(value: Any) -> None:
    with pytest.raises(TypeError):
        sql_literal(value)


def test_every_literal_type_round_trips_through_polars_sql() -> None:
    values = [
        1.25,
        decimal.Decimal("3.50"),
        "it's",
        dt.date(2024, 5, 1),
        dt.datetime(2024, 5, 1, 10, 30),
        dt.datetime(2024, 5, 1, 10, 30, tzinfo=dt.UTC),
        dt.time(8, 15),
        True,
        12,
    ]
    parts: list[str | Lit] = ["SELECT "]
    for i, value in enumerate(values):
        parts += [Lit(value), f" AS c{i}" + (", " if i < len(values) - 1 else " FROM t")]
    text = render_sql(BoundSql(tuple(parts)))
    row = pl.SQLContext(t=pl.LazyFrame({"x": [1]})).execute(text, eager=True).row(0)
    assert list(row) == values


def test_a_broken_query_names_the_step_and_the_sql_attribute(orders: Any) -> None:
    class Broken(StepSQL[Query]):
        orders = FromTable("raw.orders")
        target = IntoTable("mart.broken").replace()
        sql = "SELECT nope FROM orders WHERE customer = :customer"

    class BrokenProc(ETLProcess[Query]):
        steps = [Broken]

    class BrokenPipe(ETLPipeline[Query]):
        processes = [BrokenProc]

    with pytest.raises(PipelineRunError) as info:
        orders.runner().run(BrokenPipe, {"customer": "bob"})
    (cause,) = info.value.errors
    assert cause.step == "Broken"
    assert cause.column == "nope"
    assert isinstance(cause, UnknownColumnError)
    assert 'unable to find column "nope"' in str(cause)
    assert not orders.exists("mart.broken")


def test_a_syntax_error_names_the_sql_attribute(orders: Any) -> None:
    class Bad(StepSQL[Query]):
        orders = FromTable("raw.orders")
        target = IntoTable("mart.bad").replace()
        sql = "SELEC customer FROM orders"

    class BadProc(ETLProcess[Query]):
        steps = [Bad]

    class BadPipe(ETLPipeline[Query]):
        processes = [BadProc]

    with pytest.raises(PipelineRunError) as info:
        orders.runner().run(BadPipe, {"customer": "bob"})
    (cause,) = info.value.errors
    assert isinstance(cause, StepExecutionError)
    assert (cause.step, cause.attribute) == ("Bad", "sql")
    assert "the SQL query failed" in str(cause)
    assert "its tables are the step's sources: orders" in str(cause)
