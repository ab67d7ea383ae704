# ruff: noqa: I001
"""Seed 000, "ETL quick start", first example — verbatim; run by test_seed_quickstart.py."""

# fmt: off
from datetime import date
import polars as pl
from loom.etl import ETLParams, ETLStep, ETLProcess, ETLPipeline, ETLRunner, FromTable, IntoTable

class DailyParams(ETLParams):
    run_date: date

class CleanOrders(ETLStep[DailyParams]):
    orders = FromTable("raw.orders").columns("id", "amount", "run_date")
    target = IntoTable("staging.orders").replace()

    def execute(self, params: DailyParams, *, orders: pl.LazyFrame) -> pl.LazyFrame:
        return orders.filter(pl.col("amount") > 0)

class DailyProcess(ETLProcess[DailyParams]):
    steps = [CleanOrders]

class DailyPipeline(ETLPipeline[DailyParams]):
    processes = [DailyProcess]

runner = ETLRunner.from_yaml("config/etl.yaml")
runner.run(DailyPipeline, DailyParams(run_date=date.today()))
