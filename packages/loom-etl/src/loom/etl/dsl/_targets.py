"""The one target a step writes: ``IntoTable`` with a write mode, or ``IntoFile``.

Write modes, each taking ``schema=`` (``"strict"`` by default, ``"evolve"``,
``"overwrite"``):

- ``replace()`` — overwrite the whole table;
- ``append()`` — add the rows;
- ``replace_partition(col=value, ...)`` — overwrite the slice where every column equals
  its value (values may be ``params`` references); rows outside it are rejected;
- ``replace_partitions(*cols)`` — overwrite the slices whose values appear in the data;
- ``replace_where(predicate)`` — overwrite the rows matching ``predicate``; rows outside
  it are rejected;
- ``upsert(keys=(...))`` — merge on the keys: update matches, insert the rest.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Self

from loom.etl.dsl._expr import Expr, render_expr
from loom.etl.dsl._sources import Format

__all__ = ["IntoFile", "IntoTable", "SchemaMode", "Target", "WriteMode"]


class WriteMode(enum.StrEnum):
    """How a step's output lands in its table."""

    REPLACE = "replace"
    APPEND = "append"
    REPLACE_PARTITION = "replace_partition"
    REPLACE_PARTITIONS = "replace_partitions"
    REPLACE_WHERE = "replace_where"
    UPSERT = "upsert"


class SchemaMode(enum.StrEnum):
    """What happens when the output's schema differs from the table's.

    ``STRICT`` (default): the output must have the table's columns, with the same or
    safely widened types. ``EVOLVE``: new columns are added to the table; missing ones
    are written as null. ``OVERWRITE``: the table takes the output's schema (``replace``
    only).
    """

    STRICT = "strict"
    EVOLVE = "evolve"
    OVERWRITE = "overwrite"


SchemaArg = SchemaMode | str


@dataclass(frozen=True, slots=True, kw_only=True)
class Target:
    """Base of the two targets."""

    def describe(self) -> str:
        """A one-line description for plans and errors."""
        raise NotImplementedError


@dataclass(frozen=True, slots=True, kw_only=True)
class IntoTable(Target):
    """A Delta table, by its dotted name, with the write mode chosen by a method.

    Args:
        table: Dotted table name; ``staging.orders`` lives at ``<root>/staging/orders``.
        partition_by: Partition columns used when the write creates the table
            (``replace_partition(s)`` default to their own columns).

    Example:
        >>> from loom.etl import IntoTable, params
        >>> IntoTable("staging.orders").replace_partition(year=params.run_date.year).describe()
        'table staging.orders replace_partition(year=params.run_date.year) schema=strict'

    """

    table: str = field(kw_only=False)
    partition_by: tuple[str, ...] = ()
    mode: WriteMode | None = None
    modes_set: int = 0
    schema: SchemaArg = SchemaMode.STRICT
    partition_values: tuple[tuple[str, Any], ...] = ()
    partition_columns: tuple[Any, ...] = ()
    predicate: Any = None
    keys: tuple[Any, ...] = ()
    update_columns: tuple[Any, ...] | None = None

    def __post_init__(self) -> None:
        if isinstance(self.partition_by, str):
            object.__setattr__(self, "partition_by", (self.partition_by,))
        else:
            object.__setattr__(self, "partition_by", tuple(self.partition_by))

    def _with(self, mode: WriteMode, schema: SchemaArg, **changes: Any) -> Self:
        return dataclasses.replace(
            self, mode=mode, modes_set=self.modes_set + 1, schema=schema, **changes
        )

    def replace(self, *, schema: SchemaArg = SchemaMode.STRICT) -> Self:
        """Overwrite the whole table with the step's output."""
        return self._with(WriteMode.REPLACE, schema)

    def append(self, *, schema: SchemaArg = SchemaMode.STRICT) -> Self:
        """Add the step's output to the table."""
        return self._with(WriteMode.APPEND, schema)

    def replace_partition(
        self,
        values: Mapping[str, Any] | None = None,
        /,
        *,
        schema: SchemaArg = SchemaMode.STRICT,
        **columns: Any,
    ) -> Self:
        """Overwrite the slice where each column equals its value.

        Values are literals or ``params`` references (``year=params.run_date.year``).
        Every output row must belong to the slice; otherwise nothing is written.
        A column literally named ``schema`` goes in the ``values`` mapping.
        """
        merged = {**dict(values or {}), **columns}
        return self._with(
            WriteMode.REPLACE_PARTITION, schema, partition_values=tuple(merged.items())
        )

    def replace_partitions(self, *columns: str, schema: SchemaArg = SchemaMode.STRICT) -> Self:
        """Overwrite every slice (by these columns) that the output has rows for."""
        if len(columns) == 1 and isinstance(columns[0], list | tuple):
            columns = tuple(columns[0])
        return self._with(WriteMode.REPLACE_PARTITIONS, schema, partition_columns=columns)

    def replace_where(self, predicate: Expr, *, schema: SchemaArg = SchemaMode.STRICT) -> Self:
        """Overwrite the rows matching ``predicate``; output rows outside it are rejected."""
        return self._with(WriteMode.REPLACE_WHERE, schema, predicate=predicate)

    def upsert(
        self,
        keys: str | Sequence[str] = (),
        *,
        update_columns: Sequence[str] | None = None,
        schema: SchemaArg = SchemaMode.STRICT,
    ) -> Self:
        """Merge on ``keys``: update matching rows, insert the others.

        Output rows repeating a key are de-duplicated first; different rows with the same
        key are an error. ``update_columns`` limits which columns a match updates.
        """
        key_tuple = (keys,) if isinstance(keys, str) else tuple(keys)
        updates = None if update_columns is None else tuple(update_columns)
        return self._with(WriteMode.UPSERT, schema, keys=key_tuple, update_columns=updates)

    def describe(self) -> str:
        """A one-line description for plans and errors."""
        mode = self.mode.value if self.mode else "<no write mode>"
        args = ""
        if self.mode is WriteMode.REPLACE_PARTITION:
            args = ", ".join(f"{k}={_show(v)}" for k, v in self.partition_values)
        elif self.mode is WriteMode.REPLACE_PARTITIONS:
            args = ", ".join(str(c) for c in self.partition_columns)
        elif self.mode is WriteMode.REPLACE_WHERE:
            args = _show(self.predicate)
        elif self.mode is WriteMode.UPSERT:
            args = "keys=(" + ", ".join(str(k) for k in self.keys) + ")"
            if self.update_columns is not None:
                args += ", update_columns=(" + ", ".join(self.update_columns) + ")"
        schema = self.schema.value if isinstance(self.schema, SchemaMode) else self.schema
        call = f"{mode}({args})" if self.mode else mode
        return f"table {self.table} {call} schema={schema}"


def _show(value: Any) -> str:
    return render_expr(value) if isinstance(value, Expr) else repr(value)


@dataclass(frozen=True, slots=True, kw_only=True)
class IntoFile(Target):
    """A file (or, with ``Format.DELTA``, a Delta table at a path), replaced on each run.

    Local files are written to a temporary name and renamed into place, so readers never
    see half a file.

    Args:
        path: File path or URI.
        format: The file format; guessed from the suffix when omitted.

    """

    path: str | None = field(default=None, kw_only=False)
    format: Format | str | None = field(default=None, kw_only=False)
    alias_name: str | None = None

    @classmethod
    def alias(cls, name: str, *, format: Format | str | None = None) -> IntoFile:
        """The file at the path declared as ``storage.files.<name>`` in the config."""
        return cls(None, format, alias_name=name)

    def describe(self) -> str:
        """A one-line description for plans and errors."""
        where = f"alias {self.alias_name}" if self.alias_name else str(self.path)
        fmt = f" ({Format(self.format).value})" if self.format in tuple(Format) else ""
        return f"file {where}{fmt} replace"
