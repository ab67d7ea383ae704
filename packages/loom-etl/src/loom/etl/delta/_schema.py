"""Polars types: declared type names, safe widening, and matching output to a table."""

from __future__ import annotations

import polars as pl

from loom.etl.backend._protocol import WriteSpec
from loom.etl.dsl._dtypes import parse_decimal
from loom.etl.dsl._expr import columns_of
from loom.etl.dsl._targets import SchemaMode, WriteMode
from loom.etl.errors import SchemaMismatchError

__all__ = ["can_widen", "check_mode_columns", "check_writable", "conform", "polars_dtype"]

_NAMED: dict[str, pl.DataType] = {
    "bool": pl.Boolean(),
    "date": pl.Date(),
    "datetime": pl.Datetime("us"),
    "float32": pl.Float32(),
    "float64": pl.Float64(),
    "int8": pl.Int8(),
    "int16": pl.Int16(),
    "int32": pl.Int32(),
    "int64": pl.Int64(),
    "string": pl.String(),
    "time": pl.Time(),
    "timestamp": pl.Datetime("us", "UTC"),
    "uint8": pl.UInt8(),
    "uint16": pl.UInt16(),
    "uint32": pl.UInt32(),
    "uint64": pl.UInt64(),
}

_BITS: dict[type[pl.DataType], int] = {
    pl.Int8: 8,
    pl.Int16: 16,
    pl.Int32: 32,
    pl.Int64: 64,
    pl.UInt8: 8,
    pl.UInt16: 16,
    pl.UInt32: 32,
    pl.UInt64: 64,
}


def polars_dtype(name: str) -> pl.DataType:
    """The Polars type of a declared type name (``"int64"``, ``"decimal(10,2)"`` …)."""
    decimal = parse_decimal(name)
    if decimal is not None:
        return pl.Decimal(*decimal)
    return _NAMED[name.strip().lower()]


def can_widen(source: pl.DataType, target: pl.DataType) -> bool:
    """True when values of ``source`` fit ``target`` without loss worth failing over."""
    if source == target or source == pl.Null:
        return True
    if source.is_integer() and target.is_integer():
        bits_from, bits_to = _BITS[type(source)], _BITS[type(target)]
        if source.is_signed_integer() == target.is_signed_integer():
            return bits_from <= bits_to
        return source.is_unsigned_integer() and bits_from < bits_to
    if source.is_integer() and target == pl.Float64:
        return True
    if source == pl.Float32 and target == pl.Float64:
        return True
    if isinstance(source, pl.Datetime) and isinstance(target, pl.Datetime):
        return source.time_zone == target.time_zone
    if isinstance(source, pl.Categorical | pl.Enum) and target == pl.String:
        return True
    if isinstance(source, pl.Decimal) and isinstance(target, pl.Decimal):
        source_scale, target_scale = source.scale or 0, target.scale or 0
        return (
            target_scale >= source_scale
            and target.precision - target_scale >= source.precision - source_scale
        )
    return False


def check_writable(schema: pl.Schema, spec: WriteSpec) -> None:
    """Reject columns Delta cannot store: all-null columns without a type, Python objects."""
    for name, dtype in schema.items():
        if dtype == pl.Null or dtype == pl.Object:
            raise SchemaMismatchError(
                f"column {name!r} has type {dtype}, which {spec.name} cannot store",
                attribute=spec.attribute,
                column=name,
                fix=f"cast it in execute, e.g. pl.col({name!r}).cast(pl.String)",
            )


def check_mode_columns(schema: pl.Schema, spec: WriteSpec) -> None:
    """Every column the write mode needs must be in the output."""
    needed: list[tuple[str, str]] = []
    if spec.mode is WriteMode.REPLACE_PARTITION:
        needed = [(c, "replace_partition()") for c, _ in spec.partition_values]
    elif spec.mode is WriteMode.REPLACE_PARTITIONS:
        needed = [(c, "replace_partitions()") for c in spec.partition_columns]
    elif spec.mode is WriteMode.REPLACE_WHERE and spec.predicate is not None:
        needed = [(c, "replace_where()") for c in columns_of(spec.predicate)]
    elif spec.mode is WriteMode.UPSERT:
        needed = [(c, "upsert(keys=...)") for c in spec.keys]
        needed += [(c, "upsert(update_columns=...)") for c in spec.update_columns or ()]
    for column, where in needed:
        if column not in schema:
            raise SchemaMismatchError(
                f"{where} uses column {column!r}, which the output does not have "
                f"(output columns: {', '.join(schema.names())})",
                attribute=spec.attribute,
                column=column,
                fix=f"return {column!r} from execute, or fix the name in {where}",
            )


def conform(
    frame: pl.LazyFrame, output: pl.Schema, table: pl.Schema, spec: WriteSpec
) -> pl.LazyFrame:
    """Match the output to the table's schema under the target's schema mode.

    ``STRICT``: same columns (order may differ), types equal or safely widened.
    ``EVOLVE``: new columns allowed, missing ones written as null; shared columns as in
    ``STRICT``. ``OVERWRITE``: anything goes.

    Raises:
        SchemaMismatchError: listing every mismatching column.
    """
    if spec.schema_mode is SchemaMode.OVERWRITE:
        return frame
    strict = spec.schema_mode is SchemaMode.STRICT
    problems: list[tuple[str, str]] = []
    casts: list[pl.Expr] = []
    for name, dtype in output.items():
        if name not in table:
            if strict:
                problems.append((name, f"column {name!r} ({dtype}) is not in the table"))
            continue
        wanted = table[name]
        if dtype == wanted:
            continue
        if can_widen(dtype, wanted):
            casts.append(pl.col(name).cast(wanted))
        else:
            problems.append((name, f"column {name!r} is {dtype} but the table has {wanted}"))
    if strict:
        problems += [
            (name, f"column {name!r} of the table is missing from the output")
            for name in table.names()
            if name not in output
        ]
    if problems:
        listed = "; ".join(text for _, text in problems)
        fix = (
            "return exactly the table's columns (cast types in execute), or declare "
            "schema='evolve' to add columns / schema='overwrite' with replace()"
            if strict
            else "cast the columns to the table's types in execute"
        )
        raise SchemaMismatchError(
            f"the output does not match table {spec.name}: {listed}",
            attribute=spec.attribute,
            column=problems[0][0],
            fix=fix,
        )
    if casts:
        frame = frame.with_columns(casts)
    if strict:
        frame = frame.select(table.names())
    return frame
