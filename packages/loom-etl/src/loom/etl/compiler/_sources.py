"""Compiling a step's sources and its target into plans (no storage access here)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from loom.etl.backend._protocol import Location
from loom.etl.backend._storage import table_name_problem
from loom.etl.compiler._context import CompileContext
from loom.etl.compiler._params import check_expr, check_param
from loom.etl.compiler._plan import SourcePlan, TargetPlan
from loom.etl.dsl._dtypes import dtype_problem
from loom.etl.dsl._expr import Expr, Lit, ParamRef, columns_of, is_literal_value
from loom.etl.dsl._sources import Format, FromFile, FromTable, Source, format_from_path
from loom.etl.dsl._targets import IntoFile, IntoTable, SchemaMode, Target, WriteMode
from loom.etl.errors import DeclarationError, UnknownAliasError, WriteModeError

__all__ = ["compile_source", "compile_target", "predicate_columns"]


def _column_names(
    ctx: CompileContext, names: Iterable[Any], *, step: str, attribute: str, what: str
) -> tuple[str, ...]:
    good: list[str] = []
    for name in names:
        if not isinstance(name, str) or not name:
            ctx.add(
                DeclarationError,
                f"{what}: column names must be non-empty strings, got {name!r}",
                step=step,
                attribute=attribute,
                fix="pass column names as strings",
            )
        elif name in good:
            ctx.add(
                DeclarationError,
                f"{what}: column {name!r} is listed twice",
                step=step,
                attribute=attribute,
                column=name,
                fix="list each column once",
            )
        else:
            good.append(name)
    return tuple(good)


def _file_location(
    ctx: CompileContext, declared: FromFile | IntoFile, *, step: str, attribute: str, kind: str
) -> tuple[str, Location, Format] | None:
    if declared.alias_name is not None:
        location = ctx.storage.alias(declared.alias_name)
        if location is None:
            known = ", ".join(ctx.storage.aliases) or "none configured"
            ctx.add(
                UnknownAliasError,
                f"file alias {declared.alias_name!r} is not in storage.files (known: {known})",
                step=step,
                attribute=attribute,
                fix=f"add storage.files.{declared.alias_name}.path to the config",
            )
            return None
        name = f"alias {declared.alias_name}"
    elif isinstance(declared.path, str) and declared.path:
        location = ctx.storage.path(declared.path)
        name = declared.path
    else:
        ctx.add(
            DeclarationError,
            f"{kind} needs a path or an alias",
            step=step,
            attribute=attribute,
            fix=f"write {kind}('data/x.csv', format=Format.CSV) or {kind}.alias('name')",
        )
        return None
    fmt: Format | None
    if declared.format is None:
        fmt = format_from_path(location.uri)
        if fmt is None:
            ctx.add(
                DeclarationError,
                f"cannot tell the format of {name!r} from its name",
                step=step,
                attribute=attribute,
                fix="pass format=Format.CSV, Format.PARQUET, Format.JSON or Format.DELTA",
            )
            return None
    else:
        try:
            fmt = Format(declared.format)
        except ValueError:
            ctx.add(
                DeclarationError,
                f"unknown format {declared.format!r}",
                step=step,
                attribute=attribute,
                fix="use Format.CSV, Format.PARQUET, Format.JSON or Format.DELTA",
            )
            return None
    return name, location, fmt


def _cursor(ctx: CompileContext, cursor: object, *, step: str, attribute: str) -> str | None:
    if cursor is None:
        return None
    if isinstance(cursor, str) and cursor:
        return cursor
    ctx.add(
        DeclarationError,
        f"incremental(cursor=...) takes a column name, got {cursor!r}",
        step=step,
        attribute=attribute,
        fix="write .incremental(cursor='updated_at')",
    )
    return None


def compile_source(
    ctx: CompileContext, step: str, attribute: str, source: Source
) -> SourcePlan | None:
    """Check one source declaration and resolve where it lives."""
    columns: tuple[str, ...] | None = None
    if source.selected is not None:
        columns = _column_names(
            ctx, source.selected, step=step, attribute=attribute, what="columns()"
        )
        if not source.selected:
            ctx.add(
                DeclarationError,
                "columns() with no names selects nothing",
                step=step,
                attribute=attribute,
                fix="name the columns to read, or drop .columns() to read all",
            )
    predicate = None
    if source.predicate is not None:
        predicate = check_expr(
            ctx, source.predicate, step=step, attribute=attribute, what="where()"
        )
    dtypes: list[tuple[str, str]] = []
    for column, dtype in source.dtypes:
        problem = dtype_problem(dtype)
        if problem is not None:
            ctx.add(
                DeclarationError,
                f"types(): column {column!r}: {problem}",
                step=step,
                attribute=attribute,
                column=column,
                fix="use one of the listed type names",
            )
        else:
            dtypes.append((column, str(dtype).strip().lower()))
    cursor = _cursor(ctx, source.cursor, step=step, attribute=attribute)
    if isinstance(source, FromTable):
        problem = table_name_problem(source.table)
        if problem is not None:
            ctx.add(
                DeclarationError,
                problem,
                step=step,
                attribute=attribute,
                fix="name tables like 'schema.table'",
            )
            return None
        return SourcePlan(
            attribute,
            source,
            "table",
            source.table,
            ctx.storage.table(source.table),
            Format.DELTA,
            columns,
            predicate,
            tuple(dtypes),
            cursor=cursor,
        )
    if isinstance(source, FromFile):
        resolved = _file_location(ctx, source, step=step, attribute=attribute, kind="FromFile")
        if resolved is None:
            return None
        name, location, fmt = resolved
        return SourcePlan(
            attribute,
            source,
            "file",
            name,
            location,
            fmt,
            columns,
            predicate,
            tuple(dtypes),
            cursor=cursor,
        )
    ctx.add(
        DeclarationError,
        f"unsupported source type {type(source).__name__}",
        step=step,
        attribute=attribute,
        fix="use FromTable or FromFile",
    )
    return None


def _schema_mode(ctx: CompileContext, value: object, step: str, attribute: str) -> SchemaMode:
    try:
        if not isinstance(value, str):
            raise ValueError(value)
        return SchemaMode(value)
    except ValueError:
        ctx.add(
            WriteModeError,
            f"unknown schema mode {value!r}",
            step=step,
            attribute=attribute,
            fix="use schema='strict', 'evolve' or 'overwrite' (or SchemaMode.*)",
        )
        return SchemaMode.STRICT


def _partition_value(
    ctx: CompileContext, column: str, value: object, step: str, attribute: str
) -> None:
    if isinstance(value, ParamRef):
        check_param(ctx, value, step=step, attribute=attribute)
    elif isinstance(value, Expr) and not isinstance(value, Lit):
        ctx.add(
            WriteModeError,
            f"replace_partition({column}=...): the value must be a literal or a params "
            "reference, not an expression",
            step=step,
            attribute=attribute,
            column=column,
            fix=f"write {column}=params.<field> or {column}=<literal>",
        )
    elif not is_literal_value(value.value if isinstance(value, Lit) else value):
        ctx.add(
            WriteModeError,
            f"replace_partition({column}=...): {value!r} is not a supported literal",
            step=step,
            attribute=attribute,
            column=column,
            fix="use a str, int, date, … or a params reference",
        )


def _mode_arguments(
    ctx: CompileContext, target: IntoTable, step: str, attribute: str
) -> dict[str, Any]:
    mode = target.mode
    out: dict[str, Any] = {}
    if mode is WriteMode.REPLACE_PARTITION:
        if not target.partition_values:
            ctx.add(
                WriteModeError,
                "replace_partition() names no column",
                step=step,
                attribute=attribute,
                fix="write replace_partition(year=params.run_date.year)",
            )
        cols = _column_names(
            ctx,
            (c for c, _ in target.partition_values),
            step=step,
            attribute=attribute,
            what="replace_partition()",
        )
        for column, value in target.partition_values:
            _partition_value(ctx, column, value, step, attribute)
        out["partition_values"] = tuple(
            (c, v.value if isinstance(v, Lit) else v)
            for c, v in target.partition_values
            if c in cols
        )
    elif mode is WriteMode.REPLACE_PARTITIONS:
        if not target.partition_columns:
            ctx.add(
                WriteModeError,
                "replace_partitions() names no column",
                step=step,
                attribute=attribute,
                fix="write replace_partitions('year', 'month')",
            )
        out["partition_columns"] = _column_names(
            ctx,
            target.partition_columns,
            step=step,
            attribute=attribute,
            what="replace_partitions()",
        )
    elif mode is WriteMode.REPLACE_WHERE:
        predicate = check_expr(
            ctx, target.predicate, step=step, attribute=attribute, what="replace_where()"
        )
        if predicate is not None and not columns_of(predicate):
            ctx.add(
                WriteModeError,
                "the replace_where() predicate reads no column",
                step=step,
                attribute=attribute,
                fix="compare a column, e.g. col('day') == params.day",
            )
        out["predicate"] = predicate
    elif mode is WriteMode.UPSERT:
        if not target.keys:
            ctx.add(
                WriteModeError,
                "upsert() needs at least one key column",
                step=step,
                attribute=attribute,
                fix="write upsert(keys=('id',))",
            )
        out["keys"] = _column_names(
            ctx, target.keys, step=step, attribute=attribute, what="upsert(keys=...)"
        )
        if target.update_columns is not None:
            updates = _column_names(
                ctx,
                target.update_columns,
                step=step,
                attribute=attribute,
                what="upsert(update_columns=...)",
            )
            if not updates:
                ctx.add(
                    WriteModeError,
                    "upsert(update_columns=()) updates nothing",
                    step=step,
                    attribute=attribute,
                    fix="list the columns to update, or omit it",
                )
            out["update_columns"] = updates
    return out


def compile_target(
    ctx: CompileContext, step: str, attribute: str, target: Target
) -> TargetPlan | None:
    """Check the target declaration, its write mode and arguments, and resolve it."""
    if isinstance(target, IntoFile):
        resolved = _file_location(ctx, target, step=step, attribute=attribute, kind="IntoFile")
        if resolved is None:
            return None
        name, location, fmt = resolved
        return TargetPlan(
            attribute, target, "file", name, location, fmt, WriteMode.REPLACE, SchemaMode.OVERWRITE
        )
    if not isinstance(target, IntoTable):
        ctx.add(
            DeclarationError,
            f"unsupported target type {type(target).__name__}",
            step=step,
            attribute=attribute,
            fix="use IntoTable or IntoFile",
        )
        return None
    problem = table_name_problem(target.table)
    if problem is not None:
        ctx.add(
            DeclarationError,
            problem,
            step=step,
            attribute=attribute,
            fix="name tables like 'schema.table'",
        )
    if target.mode is None:
        ctx.add(
            WriteModeError,
            f"IntoTable({target.table!r}) has no write mode",
            step=step,
            attribute=attribute,
            fix="add .replace(), .append(), .replace_partition(...), .replace_partitions(...), "
            ".replace_where(...) or .upsert(keys=...)",
        )
        return None
    if target.modes_set > 1:
        ctx.add(
            WriteModeError,
            f"IntoTable({target.table!r}) sets a write mode {target.modes_set} times; the last "
            f"one ({target.mode.value}) would silently win",
            step=step,
            attribute=attribute,
            fix="call exactly one write-mode method",
        )
    schema_mode = _schema_mode(ctx, target.schema, step, attribute)
    if schema_mode is SchemaMode.OVERWRITE and target.mode is not WriteMode.REPLACE:
        ctx.add(
            WriteModeError,
            f"schema='overwrite' only works with replace(), not {target.mode.value}()",
            step=step,
            attribute=attribute,
            fix="use schema='evolve' to add columns, or replace(schema='overwrite')",
        )
    arguments = _mode_arguments(ctx, target, step, attribute)
    partition_by = _column_names(
        ctx, target.partition_by, step=step, attribute=attribute, what="partition_by"
    )
    if not partition_by:
        if target.mode is WriteMode.REPLACE_PARTITION:
            partition_by = tuple(c for c, _ in arguments.get("partition_values", ()))
        elif target.mode is WriteMode.REPLACE_PARTITIONS:
            partition_by = arguments.get("partition_columns", ())
    if problem is not None:
        return None
    return TargetPlan(
        attribute,
        target,
        "table",
        target.table,
        ctx.storage.table(target.table),
        Format.DELTA,
        target.mode,
        schema_mode,
        partition_by=partition_by,
        **arguments,
    )


def predicate_columns(expr: Expr | None) -> tuple[str, ...]:
    """Columns a (possibly absent) predicate reads."""
    return columns_of(expr) if expr is not None else ()
