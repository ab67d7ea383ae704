"""The daily orders pipeline: seed 000's "ETL quick start", grown into a small lake.

Run it from this folder (``python generate_data.py`` first)::

    loom etl validate daily_orders:DailyPipeline --config config/etl.yaml
    loom etl run daily_orders:DailyPipeline --config config/etl.yaml --param run_date=2026-01-01

- ``CleanOrders`` (the seed's step) keeps the day's orders with a positive amount and
  replaces that day's partition of ``staging.orders``;
- ``SyncCustomers`` reads ``raw.customers`` incrementally (only rows whose
  ``updated_at`` is past the last successful run's mark) and upserts ``dim.customers``;
- ``DailyTotals`` (SQL) sums the day's orders by country into ``mart.daily_totals``;
- ``ExportDaily`` writes the day's totals to the ``daily_export`` CSV file.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from loom.etl import (
    ETLParams,
    ETLPipeline,
    ETLProcess,
    ETLStep,
    Format,
    FromTable,
    IntoFile,
    IntoTable,
    StepSQL,
    col,
    params,
)


class DailyParams(ETLParams):
    run_date: date


class CleanOrders(ETLStep[DailyParams]):
    orders = (
        FromTable("raw.orders")
        .columns("id", "customer_id", "amount", "run_date")
        .where(col("run_date") == params.run_date)
    )
    target = IntoTable("staging.orders").replace_partition(run_date=params.run_date)

    def execute(self, params: DailyParams, *, orders: pl.LazyFrame) -> pl.LazyFrame:
        return orders.filter(pl.col("amount") > 0)


class SyncCustomers(ETLStep[DailyParams]):
    customers = FromTable("raw.customers").incremental(cursor="updated_at")
    target = IntoTable("dim.customers").upsert(keys=("customer_id",))

    def execute(self, params: DailyParams, *, customers: pl.LazyFrame) -> pl.LazyFrame:
        # the newest version of each customer in the window
        return customers.sort("updated_at").unique("customer_id", keep="last")


class DailyTotals(StepSQL[DailyParams]):
    orders = FromTable("staging.orders").where(col("run_date") == params.run_date)
    customers = FromTable("dim.customers").columns("customer_id", "country")
    target = IntoTable("mart.daily_totals").replace_partition(run_date=params.run_date)
    sql = """
        SELECT o.run_date, c.country, COUNT(*) AS orders, SUM(o.amount) AS revenue
        FROM orders o JOIN customers c ON c.customer_id = o.customer_id
        GROUP BY o.run_date, c.country
    """


class ExportDaily(ETLStep[DailyParams]):
    totals = FromTable("mart.daily_totals").where(col("run_date") == params.run_date)
    target = IntoFile.alias("daily_export", format=Format.CSV)

    def execute(self, params: DailyParams, *, totals: pl.LazyFrame) -> pl.LazyFrame:
        return totals.sort("revenue", descending=True)


class Ingest(ETLProcess[DailyParams]):
    steps = ([CleanOrders, SyncCustomers],)  # a nested list runs in parallel


class Report(ETLProcess[DailyParams]):
    steps = (DailyTotals, ExportDaily)


class DailyPipeline(ETLPipeline[DailyParams]):
    processes = (Ingest, Report)
