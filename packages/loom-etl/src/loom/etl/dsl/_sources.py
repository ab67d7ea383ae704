"""Sources a step reads: ``FromTable`` and ``FromFile``, declared as step class attributes.

Every builder returns a new immutable source, so one declaration can be shared by many
steps. Builders never raise; the compiler reports every mistake together.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any, Self

from loom.etl.dsl._expr import And, Expr, render_expr

__all__ = ["Format", "FromFile", "FromTable", "Source", "format_from_path"]


class Format(enum.StrEnum):
    """File formats: CSV, Parquet, newline-delimited JSON and Delta (a table at a path)."""

    CSV = "csv"
    PARQUET = "parquet"
    JSON = "json"
    DELTA = "delta"


_SUFFIXES = {
    ".csv": Format.CSV,
    ".parquet": Format.PARQUET,
    ".pq": Format.PARQUET,
    ".json": Format.JSON,
    ".ndjson": Format.JSON,
    ".jsonl": Format.JSON,
}


def format_from_path(path: str) -> Format | None:
    """Guess a file format from the path's suffix; ``None`` when it does not tell."""
    lowered = path.lower().rstrip("/")
    for suffix, fmt in _SUFFIXES.items():
        if lowered.endswith(suffix):
            return fmt
    return None


def _names(names: tuple[Any, ...]) -> tuple[Any, ...]:
    if len(names) == 1 and isinstance(names[0], list | tuple):
        return tuple(names[0])
    return names


@dataclass(frozen=True, slots=True, kw_only=True)
class Source:
    """What every source declares: an optional projection, predicate and column types."""

    selected: tuple[Any, ...] | None = None
    predicate: Any = None
    dtypes: tuple[tuple[str, Any], ...] = ()
    cursor: Any = None

    def columns(self, *names: str) -> Self:
        """Read only these columns (pushed down to the scan)."""
        return replace(self, selected=_names(names))

    def where(self, predicate: Expr) -> Self:
        """Read only rows where ``predicate`` holds (pushed down to the scan).

        Several ``where`` calls are combined with ``&``.
        """
        if isinstance(self.predicate, Expr) and isinstance(predicate, Expr):
            return replace(self, predicate=And(self.predicate, predicate))
        return replace(self, predicate=predicate)

    def types(self, **dtypes: str) -> Self:
        """Declare column types (``"int64"``, ``"float64"``, ``"date"``, ``"decimal(10,2)"`` …).

        CSV and JSON files are parsed with these types, so a malformed value fails with
        the column's name; other sources are cast to them.
        """
        merged = {**dict(self.dtypes), **dtypes}
        return replace(self, dtypes=tuple(merged.items()))

    def incremental(self, *, cursor: str) -> Self:
        """Read only the rows added since the last successful run (an incremental source).

        Each run reads the window ``high-water mark < cursor <= max(cursor)``: the mark is
        the largest ``cursor`` value the step read in its last successful run (kept per
        pipeline, step and source in the run history), and the window's upper bound is
        fixed when the step starts. The mark advances only when the step's commit
        succeeds. Rows whose cursor is null are never read. The first run reads every
        row.

        Args:
            cursor: An ordered column that grows with new rows (``updated_at``, an id).

        """
        return replace(self, cursor=cursor)

    def describe(self) -> str:
        """A one-line description for plans and errors."""
        raise NotImplementedError

    def _details(self) -> str:
        parts = []
        if self.selected is not None:
            parts.append("columns(" + ", ".join(str(c) for c in self.selected) + ")")
        if isinstance(self.predicate, Expr):
            parts.append(f"where({render_expr(self.predicate)})")
        if self.dtypes:
            parts.append("types(" + ", ".join(f"{k}={v}" for k, v in self.dtypes) + ")")
        if self.cursor is not None:
            parts.append(f"incremental(cursor={self.cursor!r})")
        return (" " + " ".join(parts)) if parts else ""


@dataclass(frozen=True, slots=True, kw_only=True)
class FromTable(Source):
    """A Delta table, by its dotted name: ``FromTable("raw.orders")``.

    Table ``raw.orders`` lives at ``<storage.root>/raw/orders`` unless
    ``storage.tables`` gives it another path.

    Example:
        >>> from loom.etl import FromTable, col, params
        >>> FromTable("raw.orders").columns("id", "amount").where(col("amount") > 0).describe()
        "table raw.orders columns(id, amount) where(col('amount') > 0)"

    """

    table: str = field(kw_only=False)

    def describe(self) -> str:
        """A one-line description for plans and errors."""
        return f"table {self.table}{self._details()}"


@dataclass(frozen=True, slots=True, kw_only=True)
class FromFile(Source):
    """Files at a path (globs allowed), or at a path named in ``storage.files``.

    Args:
        path: File path or URI; ``*`` globs read many files as one.
        format: The file format; guessed from the suffix when omitted.
        options: Backend reader options (for Polars: keyword arguments of
            ``scan_csv`` / ``scan_parquet`` / ``scan_ndjson``, e.g. ``{"separator": ";"}``).

    """

    path: str | None = field(default=None, kw_only=False)
    format: Format | str | None = field(default=None, kw_only=False)
    alias_name: str | None = None
    options: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    @classmethod
    def alias(cls, name: str, *, format: Format | str | None = None) -> FromFile:
        """Files at the path declared as ``storage.files.<name>`` in the config."""
        return cls(None, format, alias_name=name)

    def with_options(self, **options: Any) -> FromFile:
        """Return a copy with backend reader options added."""
        return replace(self, options=MappingProxyType({**self.options, **options}))

    def describe(self) -> str:
        """A one-line description for plans and errors."""
        where = f"alias {self.alias_name}" if self.alias_name else str(self.path)
        fmt = f" ({Format(self.format).value})" if self.format in tuple(Format) else ""
        return f"file {where}{fmt}{self._details()}"
