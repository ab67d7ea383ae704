"""``PolarsDeltaBackend``: the :class:`~loom.etl.backend.Backend` for Polars on Delta Lake."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl
from deltalake import DeltaTable

from loom.etl.backend._protocol import (
    BoundSql,
    Commit,
    Location,
    ReadSpec,
    StepContext,
    TableSchema,
    WriteOutcome,
    WriteSpec,
)
from loom.etl.delta._errors import brief
from loom.etl.delta._history import find_commit
from loom.etl.delta._read import read_source, source_max, storage_options
from loom.etl.delta._sql import render_sql, run_sql
from loom.etl.delta._write_file import write_file
from loom.etl.delta._write_table import write_table
from loom.etl.errors import ParamsValidationError, StepExecutionError

__all__ = ["PolarsDeltaBackend"]


class PolarsDeltaBackend:
    """Polars lazy frames over Delta tables and CSV / Parquet / NDJSON files.

    Reads are lazy scans with column and predicate push-down; writes stream the output
    through Polars' streaming engine into one Delta commit per step (or a file sink).
    Steps receive and return ``polars.LazyFrame`` (a returned ``DataFrame`` is accepted).
    """

    name = "polars"

    def table_schema(self, location: Location) -> TableSchema | None:
        """The table's columns and partition columns, or ``None`` when there is no table."""
        options = storage_options(location.storage_options)
        if not DeltaTable.is_deltatable(location.uri, storage_options=options):
            return None
        table = DeltaTable(location.uri, storage_options=options)
        schema = pl.scan_delta(table).collect_schema()
        columns = tuple((name, str(dtype)) for name, dtype in schema.items())
        return TableSchema(columns, tuple(table.metadata().partition_columns))

    def read(self, spec: ReadSpec, ctx: StepContext) -> pl.LazyFrame:
        """A lazy scan of the source with its projection and predicate pushed down."""
        return read_source(spec, ctx)

    def sql(self, query: BoundSql, frames: Mapping[str, Any], ctx: StepContext) -> pl.LazyFrame:
        """Run a ``StepSQL`` query over the step's sources, params as typed literals."""
        try:
            text = render_sql(query)
        except TypeError as exc:
            raise ParamsValidationError(
                f"sql: a bound param cannot be written as a SQL literal: {exc}",
                fix="use params of type str, int, float, Decimal, bool, date, datetime, time, "
                "an Enum or a non-empty list of those",
            ) from None
        try:
            return run_sql(text, frames)
        except Exception as exc:
            raise StepExecutionError(
                f"the SQL query failed: {type(exc).__name__}: {brief(exc)}",
                attribute="sql",
                fix=f"fix the query; its tables are the step's sources: {', '.join(frames)}",
            ) from exc

    def write(self, frame: Any, spec: WriteSpec, ctx: StepContext) -> WriteOutcome:
        """Write the step's output to its target in one atomic commit."""
        if isinstance(frame, pl.DataFrame):
            frame = frame.lazy()
        if not isinstance(frame, pl.LazyFrame):
            raise StepExecutionError(
                f"execute returned {type(frame).__module__}.{type(frame).__name__}, "
                "not a polars LazyFrame",
                attribute="execute",
                fix="return a pl.LazyFrame (or pl.DataFrame) from execute",
            )
        if spec.kind == "file":
            return write_file(frame, spec, ctx)
        return write_table(frame, spec, ctx)

    def max_value(self, spec: ReadSpec, column: str) -> Any:
        """The largest ``column`` value of the source's rows matching its predicate."""
        return source_max(spec, column, StepContext("", "", "", reads=(spec,)))

    def find_commit(self, location: Location, run_id: str, step: str) -> Commit | None:
        """The newest commit of the table at ``location`` made by ``run_id``'s ``step``."""
        return find_commit(location, run_id, step)
