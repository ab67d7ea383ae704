"""Lazy scans of Delta tables and CSV / Parquet / NDJSON files, with push-down and row counts."""

from __future__ import annotations

import dataclasses
from typing import Any

import polars as pl
from deltalake import DeltaTable

from loom.etl.backend._protocol import ReadSpec, StepContext
from loom.etl.delta._errors import brief, translate
from loom.etl.delta._exprs import to_polars
from loom.etl.delta._schema import polars_dtype
from loom.etl.dsl._expr import columns_of
from loom.etl.dsl._sources import Format
from loom.etl.errors import SchemaMismatchError, SourceReadError, UnknownColumnError

__all__ = ["count_rows", "read_source", "source_max", "storage_options"]


def storage_options(spec_options: Any) -> dict[str, str] | None:
    """Object-store options as the libraries want them (``None`` when empty)."""
    return dict(spec_options) or None


def count_rows(frame: pl.LazyFrame, add: Any) -> pl.LazyFrame:
    """``frame`` with every batch's row count passed to ``add`` as it streams by.

    The counter never blocks an optimization: projections, predicates and slices the
    step applies later are still pushed down into the scan. So the count is the rows the
    scan actually delivered — after the declared ``where`` and after whatever filters
    Polars could push into it.
    """

    def count(batch: pl.DataFrame) -> pl.DataFrame:
        add(batch.height)
        return batch

    return frame.map_batches(
        count,
        streamable=True,
        projection_pushdown=True,
        predicate_pushdown=True,
        slice_pushdown=True,
    )


_PINNING = ("version", "delta_table_options", "credential_provider")


def _scan(spec: ReadSpec, ctx: StepContext | None = None) -> pl.LazyFrame:
    uri = spec.location.uri
    options = storage_options(spec.location.storage_options)
    extra = dict(spec.options)
    declared = {c: polars_dtype(t) for c, t in spec.dtypes}
    if spec.format is Format.DELTA:
        if not DeltaTable.is_deltatable(uri, storage_options=options):
            raise SourceReadError(
                f"{spec.kind} {spec.name} does not exist (no Delta table at {uri})",
                attribute=spec.attribute,
                fix="create the table, or write it in an earlier step of the pipeline",
            )
        if any(key in extra for key in _PINNING):
            return pl.scan_delta(uri, storage_options=options, **extra)
        table = DeltaTable(uri, storage_options=options)
        if ctx is not None:
            ctx.note_version(spec.attribute, table.version())
        return pl.scan_delta(table, **extra)
    if spec.format is Format.CSV:
        if declared:
            extra.setdefault("schema_overrides", declared)
        return pl.scan_csv(uri, storage_options=options, **extra)
    if spec.format is Format.JSON:
        if declared:
            extra.setdefault("schema_overrides", declared)
        return pl.scan_ndjson(uri, storage_options=options, **extra)
    return pl.scan_parquet(uri, storage_options=options, **extra)


def _check_columns(spec: ReadSpec, schema: pl.Schema) -> None:
    available = ", ".join(schema.names())
    if spec.cursor is not None and spec.cursor not in schema:
        raise UnknownColumnError(
            f"incremental(cursor={spec.cursor!r}): {spec.kind} {spec.name} has no column "
            f"{spec.cursor!r} (columns: {available})",
            attribute=spec.attribute,
            column=spec.cursor,
            fix="name an existing, ordered column as the cursor",
        )
    for column in spec.columns or ():
        if column not in schema:
            raise SchemaMismatchError(
                f"columns(): {spec.kind} {spec.name} has no column {column!r} "
                f"(columns: {available})",
                attribute=spec.attribute,
                column=column,
                fix="fix the name in .columns(...), or the source's data",
            )
    for column, _ in spec.dtypes:
        if column not in schema:
            raise SchemaMismatchError(
                f"types(): {spec.kind} {spec.name} has no column {column!r} (columns: {available})",
                attribute=spec.attribute,
                column=column,
                fix="fix the name in .types(...)",
            )
    if spec.predicate is not None:
        for column in columns_of(spec.predicate):
            if column not in schema:
                raise UnknownColumnError(
                    f"where(): {spec.kind} {spec.name} has no column {column!r} "
                    f"(columns: {available})",
                    attribute=spec.attribute,
                    column=column,
                    fix="fix the column name in .where(...)",
                )


def _filtered(spec: ReadSpec, ctx: StepContext, *, note_version: bool) -> pl.LazyFrame:
    """The source scanned, typed and filtered by its predicate (no projection yet)."""
    try:
        frame = _scan(spec, ctx if note_version else None)
        schema = frame.collect_schema()
    except SourceReadError:
        raise
    except Exception as exc:
        if isinstance(exc, pl.exceptions.ComputeError | FileNotFoundError | OSError):
            raise SourceReadError(
                f"cannot read {spec.kind} {spec.name} at {spec.location.uri}: {brief(exc)}",
                attribute=spec.attribute,
                fix="check the path, the format and storage_options",
            ) from exc
        raise translate(exc, ctx, doing=f"reading {spec.name}") from exc
    _check_columns(spec, schema)
    if spec.format in (Format.DELTA, Format.PARQUET) and spec.dtypes:
        frame = frame.with_columns(pl.col(c).cast(polars_dtype(t)) for c, t in spec.dtypes)
    if spec.predicate is not None:
        frame = frame.filter(to_polars(spec.predicate))
    return frame


def read_source(spec: ReadSpec, ctx: StepContext) -> pl.LazyFrame:
    """A lazy frame over ``spec``: declared types, predicate and projection pushed down.

    Rows are counted per source as they stream by, and a Delta source's version is
    noted on ``ctx`` for lineage.

    Raises:
        SourceReadError: the source is missing or cannot be opened.
        SchemaMismatchError: a declared column is not in the source.
        UnknownColumnError: the predicate reads a column the source does not have.
    """
    frame = _filtered(spec, ctx, note_version=True)
    if spec.columns is not None:
        frame = frame.select(spec.columns)
    attribute = spec.attribute
    return count_rows(frame, lambda count: ctx.add_rows_read(count, attribute))


def source_max(spec: ReadSpec, column: str, ctx: StepContext) -> Any:
    """The largest non-null ``column`` value of the source's rows matching its predicate.

    Raises:
        UnknownColumnError: the source has no such column.
        SourceReadError: the source cannot be read.
    """
    frame = _filtered(dataclasses.replace(spec, cursor=column), ctx, note_version=False)
    try:
        return frame.select(pl.col(column).max()).collect().item()
    except Exception as exc:
        raise translate(exc, ctx, doing=f"finding the high-water mark of {spec.name}") from exc
