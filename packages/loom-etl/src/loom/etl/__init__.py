"""loom-etl: declarative, compile-time-checked ETL pipelines on Polars and Delta Lake.

Declare typed params, steps with their sources and one target, processes and a
pipeline; :class:`ETLRunner` compiles the pipeline (reporting every declaration error
at once) and runs it, one atomic commit per step.

Example::

    from datetime import date
    import polars as pl
    from loom.etl import ETLParams, ETLPipeline, ETLProcess, ETLRunner, ETLStep
    from loom.etl import FromTable, IntoTable

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

    ETLRunner.from_yaml("config/etl.yaml").run(DailyPipeline, DailyParams(run_date=date.today()))

Importing this package needs only loom-core; running pipelines on Polars + Delta needs
the ``delta`` extra (``pip install 'loom-etl[delta]'``).
"""

from loom.etl.__about__ import __version__
from loom.etl.dsl import (
    ETLParams,
    ETLPipeline,
    ETLProcess,
    ETLStep,
    Format,
    FromFile,
    FromTable,
    IntoFile,
    IntoTable,
    SchemaMode,
    StepSQL,
    WriteMode,
    col,
    params,
)
from loom.etl.errors import EtlError
from loom.etl.runner import ETLRunner, RunResult, StepRecord, StepStatus

__all__ = [
    "ETLParams",
    "ETLPipeline",
    "ETLProcess",
    "ETLRunner",
    "ETLStep",
    "EtlError",
    "Format",
    "FromFile",
    "FromTable",
    "IntoFile",
    "IntoTable",
    "RunResult",
    "SchemaMode",
    "StepRecord",
    "StepSQL",
    "StepStatus",
    "WriteMode",
    "__version__",
    "col",
    "params",
]
