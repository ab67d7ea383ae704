"""Writing a step's output to a Delta table: one atomic commit per step, per write mode.

- ``replace``: overwrite.
- ``append``: append.
- ``replace_partition`` / ``replace_where``: overwrite with a predicate; rows outside it
  stop the stream and nothing is committed.
- ``replace_partitions``: the output is collected, its distinct partition values become
  an equality / ``IN`` predicate, and the output overwrites exactly those slices.
- ``upsert``: the output is collected, exact duplicate rows dropped, different rows
  sharing a key rejected, then merged on the keys.

Every commit carries ``loom.run_id``, ``loom.pipeline``, ``loom.step`` and
``loom.write_mode`` in its metadata.
"""

from __future__ import annotations

import operator
from functools import reduce
from typing import Any, Literal

import polars as pl
from deltalake import CommitProperties, DeltaTable, write_deltalake

from loom.etl.backend._protocol import StepContext, WriteOutcome, WriteSpec
from loom.etl.delta._errors import translate
from loom.etl.delta._exprs import quote_identifier, to_delta_sql, to_polars
from loom.etl.delta._read import storage_options
from loom.etl.delta._schema import check_mode_columns, check_writable, conform
from loom.etl.delta._stream import Rejected, stream
from loom.etl.dsl._expr import And, Col, Compare, Expr, IsIn, Lit, Or, columns_of, render_expr
from loom.etl.dsl._targets import SchemaMode, WriteMode
from loom.etl.errors import DuplicateKeyError, EtlError, RowsOutsidePredicateError

__all__ = ["write_table"]

_SCHEMA_MODE: dict[SchemaMode, Literal["merge", "overwrite"] | None] = {
    SchemaMode.STRICT: None,
    SchemaMode.EVOLVE: "merge",
    SchemaMode.OVERWRITE: "overwrite",
}


def _and(parts: list[Expr]) -> Expr:
    return reduce(And, parts)


def _partition_predicate(spec: WriteSpec) -> Expr:
    return _and([Compare("==", Col(c), Lit(v)) for c, v in spec.partition_values])


def _commit(ctx: StepContext, spec: WriteSpec) -> CommitProperties:
    return CommitProperties(
        custom_metadata={**ctx.commit_metadata(), "loom.write_mode": spec.mode.value}
    )


class _TableWrite:
    """One write of one step's output to one Delta table."""

    def __init__(self, frame: pl.LazyFrame, spec: WriteSpec, ctx: StepContext) -> None:
        self.spec = spec
        self.ctx = ctx
        self.uri = spec.location.uri
        self.options = storage_options(spec.location.storage_options)
        self.table = (
            DeltaTable(self.uri, storage_options=self.options)
            if DeltaTable.is_deltatable(self.uri, storage_options=self.options)
            else None
        )
        self.doing = f"writing table {spec.name}"
        try:
            self.schema = frame.collect_schema()
        except Exception as exc:
            raise translate(exc, ctx, doing=f"computing the output for {spec.name}") from exc
        check_mode_columns(self.schema, spec)
        if self.table is not None:
            table_schema = pl.scan_delta(self.table).collect_schema()
            frame = conform(frame, self.schema, table_schema, spec)
            self.schema = frame.collect_schema()
        check_writable(self.schema, spec)
        self.frame = frame

    def _version(self) -> int:
        if self.table is None:
            self.table = DeltaTable(self.uri, storage_options=self.options)
        return self.table.version()

    def _write(
        self,
        data: Any,
        *,
        mode: Literal["append", "overwrite"],
        predicate: str | None = None,
    ) -> None:
        creating = self.table is None
        target: str | DeltaTable = self.uri if self.table is None else self.table
        partition_by = list(self.spec.partition_by) if creating and self.spec.partition_by else None
        schema_mode = None if creating else _SCHEMA_MODE[self.spec.schema_mode]
        options = self.options if creating else None
        commit = _commit(self.ctx, self.spec)
        if mode == "append":
            write_deltalake(
                target,
                data,
                mode="append",
                partition_by=partition_by,
                schema_mode=schema_mode,
                storage_options=options,
                commit_properties=commit,
            )
            return
        write_deltalake(
            target,
            data,
            mode="overwrite",
            predicate=None if creating else predicate,
            partition_by=partition_by,
            schema_mode=schema_mode,
            storage_options=options,
            commit_properties=commit,
        )

    def streamed(
        self,
        mode: Literal["append", "overwrite"],
        predicate: Expr | None = None,
    ) -> WriteOutcome:
        check = to_polars(predicate) if predicate is not None else None
        state = stream(self.frame, self.schema, check)
        try:
            self._write(
                state.reader,
                mode=mode,
                predicate=to_delta_sql(predicate) if predicate is not None else None,
            )
        except Exception as exc:  # noqa: BLE001 - the stream's own error explains it best
            cause = state.error or exc
            if not isinstance(cause, Exception):
                raise cause from None
            if isinstance(cause, Rejected):
                raise self._rejected(cause, predicate) from None
            raise translate(cause, self.ctx, doing=self.doing) from cause
        return WriteOutcome(state.rows, self._version())

    def _rejected(self, rejected: Rejected, predicate: Expr | None) -> EtlError:
        shown = render_expr(predicate) if predicate is not None else "?"
        sample = rejected.sample.to_dicts()
        return RowsOutsidePredicateError(
            f"{rejected.count} output row(s) fall outside {self.spec.mode.value}({shown}) "
            f"(seen before stopping; e.g. {sample[:3]}); nothing was written",
            attribute=self.spec.attribute,
            column=_first_column(predicate),
            fix="filter the output to the slice in execute, or widen the slice",
        )

    def collected(self) -> pl.DataFrame:
        try:
            return self.frame.collect()
        except Exception as exc:
            raise translate(exc, self.ctx, doing=self.doing) from exc

    def replace_partitions(self) -> WriteOutcome:
        data = self.collected()
        columns = list(self.spec.partition_columns)
        values = data.select(columns).unique(maintain_order=True)
        if values.height == 0:
            return WriteOutcome(0, self.table.version() if self.table is not None else None)
        if len(columns) == 1:
            predicate: Expr = IsIn(Col(columns[0]), tuple(Lit(v) for v in values[columns[0]]))
        else:
            slices = [
                _and([Compare("==", Col(c), Lit(v)) for c, v in row.items()])
                for row in values.iter_rows(named=True)
            ]
            predicate = reduce(Or, slices)
        try:
            self._write(data.to_arrow(), mode="overwrite", predicate=to_delta_sql(predicate))
        except Exception as exc:
            raise translate(exc, self.ctx, doing=self.doing) from exc
        return WriteOutcome(data.height, self._version())

    def upsert(self) -> WriteOutcome:
        keys = list(self.spec.keys)
        data = self.collected()
        distinct = _distinct_keys(data, keys)
        if not distinct:
            data = data.unique(maintain_order=True)  # exact duplicate rows are dropped
        null_keys = data.filter(pl.any_horizontal(pl.col(keys).is_null()))
        if null_keys.height:
            raise DuplicateKeyError(
                f"{null_keys.height} output row(s) have a null key ({', '.join(keys)}), e.g. "
                f"{null_keys.head(3).to_dicts()}; nothing was written",
                attribute=self.spec.attribute,
                column=keys[0],
                fix="drop or fill rows with null keys in execute",
            )
        clashing = data.clear() if distinct else data.filter(pl.struct(keys).is_duplicated())
        if clashing.height:
            sample = clashing.sort(keys).head(4).to_dicts()
            raise DuplicateKeyError(
                f"{clashing.height} different output rows share key values "
                f"({', '.join(keys)}), e.g. {sample}; nothing was written",
                attribute=self.spec.attribute,
                column=keys[0],
                fix="keep one row per key in execute (e.g. the latest)",
            )
        if self.table is None:
            try:
                self._write(data.to_arrow(), mode="overwrite")
            except Exception as exc:
                raise translate(exc, self.ctx, doing=self.doing) from exc
            return WriteOutcome(data.height, self._version())
        on = " AND ".join(f"t.{quote_identifier(k)} = s.{quote_identifier(k)}" for k in keys)
        try:
            merger = self.table.merge(
                data.to_arrow(),
                on,
                source_alias="s",
                target_alias="t",
                merge_schema=self.spec.schema_mode is SchemaMode.EVOLVE,
                commit_properties=_commit(self.ctx, self.spec),
            )
            if self.spec.update_columns is not None:
                merger = merger.when_matched_update(
                    {
                        quote_identifier(c): f"s.{quote_identifier(c)}"
                        for c in self.spec.update_columns
                    }
                )
            else:
                merger = merger.when_matched_update_all()
            metrics = merger.when_not_matched_insert_all().execute()
        except Exception as exc:
            raise translate(exc, self.ctx, doing=self.doing) from exc
        written = int(metrics.get("num_target_rows_inserted", 0)) + int(
            metrics.get("num_target_rows_updated", 0)
        )
        return WriteOutcome(written, self._version())


def _distinct_keys(data: pl.DataFrame, keys: list[str]) -> bool:
    """True when no two rows share a key, decided in one pass.

    One key: its distinct count. Several: the distinct count of a combination of the
    keys' hashes — different hashes mean different keys, so the common case needs no
    row comparison; when some hashes repeat the caller compares rows exactly.
    """
    if len(keys) == 1:
        probe = pl.col(keys[0])
    else:
        probe = reduce(operator.xor, (pl.col(k).hash(seed=i) for i, k in enumerate(keys)))
    return bool(data.select(probe.n_unique()).item() == data.height)


def _first_column(predicate: Expr | None) -> str | None:
    names = columns_of(predicate) if predicate is not None else ()
    return names[0] if names else None


def write_table(frame: pl.LazyFrame, spec: WriteSpec, ctx: StepContext) -> WriteOutcome:
    """Write ``frame`` to the Delta table of ``spec`` in one commit, or not at all."""
    write = _TableWrite(frame, spec, ctx)
    mode = spec.mode
    if mode is WriteMode.REPLACE:
        return write.streamed("overwrite")
    if mode is WriteMode.APPEND:
        return write.streamed("append")
    if mode is WriteMode.REPLACE_PARTITION:
        return write.streamed("overwrite", _partition_predicate(spec))
    if mode is WriteMode.REPLACE_WHERE:
        return write.streamed("overwrite", spec.predicate)
    if mode is WriteMode.REPLACE_PARTITIONS:
        return write.replace_partitions()
    return write.upsert()
