# ruff: noqa: I001
"""Seed 000, "ETL quick start", second and third examples, each verbatim inside a step.

The seed shows them as fragments (a target, a source); the lines between the
``# seed:`` markers are copied unchanged, the steps around them make them runnable.
"""

from datetime import date

import polars as pl

from loom.etl import ETLParams, ETLPipeline, ETLProcess, ETLStep, Format, FromFile, FromTable
from loom.etl import IntoFile, IntoTable


class DailyParams(ETLParams):
    run_date: date


class PartitionOrders(ETLStep[DailyParams]):
    orders = FromTable("raw.orders")

    # seed: second example
    from loom.etl import params

    target = IntoTable("staging.orders").replace_partition(
        year=params.run_date.year,
        month=params.run_date.month,
    )
    # seed: end

    def execute(self, params: DailyParams, *, orders: pl.LazyFrame) -> pl.LazyFrame:
        return orders.filter(pl.col("run_date") == params.run_date).with_columns(
            year=pl.col("run_date").dt.year(), month=pl.col("run_date").dt.month()
        )


class ExportEvents(ETLStep[DailyParams]):
    # seed: third example
    events = FromFile.alias("events_raw", format=Format.CSV)
    target = IntoFile.alias("exports_daily", format=Format.PARQUET)
    # seed: end

    def execute(self, params: DailyParams, *, events: pl.LazyFrame) -> pl.LazyFrame:
        return events.filter(pl.col("day") == str(params.run_date))


class PartitionProcess(ETLProcess[DailyParams]):
    steps = [PartitionOrders]


class ExportProcess(ETLProcess[DailyParams]):
    steps = [ExportEvents]


class FragmentsPipeline(ETLPipeline[DailyParams]):
    processes = [PartitionProcess, ExportProcess]
