"""The boundary between the engine-neutral runner and an engine (Polars + Delta, Spark).

The compiler and the runner never touch a dataframe: they hand a backend bound read and
write specs (params already replaced by values) and pass its frames from ``read`` to the
step's ``execute`` and from there to ``write``.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal, Protocol, runtime_checkable

from loom.etl.dsl._expr import Expr, Lit
from loom.etl.dsl._sources import Format
from loom.etl.dsl._targets import SchemaMode, WriteMode

__all__ = [
    "Backend",
    "BoundSql",
    "Commit",
    "Location",
    "ReadSpec",
    "StepContext",
    "TableSchema",
    "WriteOutcome",
    "WriteSpec",
]


def _empty() -> Mapping[str, Any]:
    return MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Location:
    """Where a table or file lives: a path or URI and its object-store options."""

    uri: str
    storage_options: Mapping[str, str] = field(default_factory=_empty)

    @property
    def is_local(self) -> bool:
        """True for a local path (no scheme, or ``file://``)."""
        return "://" not in self.uri or self.uri.startswith("file://")

    def __str__(self) -> str:
        return self.uri


@dataclass(frozen=True, slots=True)
class TableSchema:
    """The columns of an existing table, in order, with their types as text."""

    columns: tuple[tuple[str, str], ...]
    partition_columns: tuple[str, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        """The column names, in order."""
        return tuple(name for name, _ in self.columns)


@dataclass(frozen=True, slots=True)
class ReadSpec:
    """One source of one step, with its params bound.

    Attributes:
        attribute: The step attribute (and ``execute`` keyword) of the source.
        kind: ``"table"`` or ``"file"``.
        name: Table name, file path or ``alias <name>``, for messages.
        location: Where to read.
        format: ``Format.DELTA`` for tables.
        columns: The projection, or ``None`` for every column.
        predicate: The row filter, params already bound.
        dtypes: Declared column types (type names of :mod:`loom.etl.dsl`).
        options: Backend reader options.
        cursor: The cursor column of an incremental source; the runner has already
            narrowed ``predicate`` to the run's window.

    """

    attribute: str
    kind: Literal["table", "file"]
    name: str
    location: Location
    format: Format
    columns: tuple[str, ...] | None = None
    predicate: Expr | None = None
    dtypes: tuple[tuple[str, str], ...] = ()
    options: Mapping[str, Any] = field(default_factory=_empty)
    cursor: str | None = None


@dataclass(frozen=True, slots=True)
class WriteSpec:
    """The target of one step, with its params bound.

    Attributes:
        attribute: The step attribute holding the target.
        kind: ``"table"`` or ``"file"``.
        name: Table name or file path, for messages.
        location: Where to write.
        format: ``Format.DELTA`` for tables.
        mode: The write mode (files are always ``REPLACE``).
        schema_mode: What to do when the output's schema differs from the table's.
        partition_values: ``replace_partition`` columns and their bound values.
        partition_columns: ``replace_partitions`` columns.
        partition_by: Partition columns for a table the write creates.
        predicate: ``replace_where`` predicate, params bound.
        keys: ``upsert`` keys.
        update_columns: Columns an ``upsert`` match updates (``None``: all).

    """

    attribute: str
    kind: Literal["table", "file"]
    name: str
    location: Location
    format: Format
    mode: WriteMode = WriteMode.REPLACE
    schema_mode: SchemaMode = SchemaMode.STRICT
    partition_values: tuple[tuple[str, Any], ...] = ()
    partition_columns: tuple[str, ...] = ()
    partition_by: tuple[str, ...] = ()
    predicate: Expr | None = None
    keys: tuple[str, ...] = ()
    update_columns: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class BoundSql:
    """A ``StepSQL`` query: SQL text and bound values, to be rendered as typed literals."""

    parts: tuple[str | Lit, ...]
    text: str = ""


@dataclass(slots=True)
class StepContext:
    """What a backend knows about the step it works for, and the counters it fills in.

    Attributes:
        run_id: The run's id, recorded in every Delta commit as ``loom.run_id``.
        pipeline: Pipeline name.
        step: Step name, recorded in every Delta commit as ``loom.step``.
        reads: The step's bound sources, so errors can name the one at fault.
        metadata: More custom metadata for the step's commit (the runner adds
            ``loom.watermarks`` for incremental sources).

    """

    run_id: str
    pipeline: str
    step: str
    reads: tuple[ReadSpec, ...] = ()
    metadata: dict[str, str] = field(default_factory=dict)
    _rows_read: int = 0
    _by_source: dict[str, int] = field(default_factory=dict)
    _versions: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add_rows_read(self, count: int, source: str | None = None) -> None:
        """Count ``count`` more rows delivered by source ``source`` (thread-safe)."""
        with self._lock:
            self._rows_read += count
            if source is not None:
                self._by_source[source] = self._by_source.get(source, 0) + count

    def note_version(self, source: str, version: int) -> None:
        """Record the table version source ``source`` is read at (for lineage)."""
        with self._lock:
            self._versions[source] = version

    @property
    def rows_read(self) -> int:
        """Rows the step's sources delivered so far."""
        return self._rows_read

    def rows_read_from(self, source: str) -> int | None:
        """Rows source ``source`` delivered, or ``None`` when the backend did not count it."""
        with self._lock:
            return self._by_source.get(source)

    def version_read(self, source: str) -> int | None:
        """The table version source ``source`` was read at, when known."""
        with self._lock:
            return self._versions.get(source)

    def commit_metadata(self) -> dict[str, str]:
        """The custom metadata of the step's commit."""
        return {
            **self.metadata,
            "loom.run_id": self.run_id,
            "loom.pipeline": self.pipeline,
            "loom.step": self.step,
        }


@dataclass(frozen=True, slots=True)
class Commit:
    """A commit a step made to a table, found in the table's history.

    Attributes:
        version: The table version the commit created.
        metadata: Its custom metadata (``loom.run_id``, ``loom.step``, ``loom.watermarks`` …).
        rows_written: Rows the commit wrote, when the table's history tells.

    """

    version: int
    metadata: Mapping[str, str]
    rows_written: int | None = None


@dataclass(frozen=True, slots=True)
class WriteOutcome:
    """What a write did: rows written (``None`` if unknown) and the table version it made."""

    rows_written: int | None = None
    version: int | None = None


@runtime_checkable
class Backend(Protocol):
    """An engine: reads sources into frames, runs SQL over them, writes a frame to a target.

    Frames are the engine's own type (``polars.LazyFrame`` for the Polars backend); the
    runner passes them through untouched. Errors the backend can explain are raised as
    :class:`~loom.etl.errors.EtlError` subclasses; anything else is wrapped by the runner.
    """

    name: str

    def table_schema(self, location: Location) -> TableSchema | None:
        """The schema of the table at ``location``, or ``None`` when there is no table."""
        ...

    def read(self, spec: ReadSpec, ctx: StepContext) -> Any:
        """A lazy frame over the source, with projection and predicate pushed down."""
        ...

    def sql(self, query: BoundSql, frames: Mapping[str, Any], ctx: StepContext) -> Any:
        """Run ``query`` over ``frames`` (registered under their attribute names)."""
        ...

    def write(self, frame: Any, spec: WriteSpec, ctx: StepContext) -> WriteOutcome:
        """Write ``frame`` to the target in one atomic commit; nothing when it fails."""
        ...

    def max_value(self, spec: ReadSpec, column: str) -> Any:
        """The largest non-null ``column`` value among the source's rows that match
        ``spec.predicate`` (``None`` when there are none); used for incremental sources.
        """
        ...

    def find_commit(self, location: Location, run_id: str, step: str) -> Commit | None:
        """The commit run ``run_id``'s step ``step`` made to the table at ``location``.

        ``None`` when there is no table there or no such commit. A resumed run uses it to
        skip steps that committed before a crash, even when the run history missed it.
        """
        ...
