"""Assertions on frames: rows (in any order by default) and schemas, with readable diffs."""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import polars as pl

from loom.etl.delta._schema import polars_dtype

__all__ = ["Rows", "assert_rows", "assert_schema", "to_frame"]

Rows = Sequence[Mapping[str, Any]] | Mapping[str, Sequence[Any]] | pl.DataFrame
"""Rows as a list of dicts, a dict of columns, or a DataFrame."""


def to_frame(rows: Rows, schema: Mapping[str, Any] | None = None) -> pl.DataFrame:
    """A DataFrame from ``rows``; ``schema`` types some or all columns (type names such as
    ``"int64"``, ``"decimal(10,2)"``, ``"timestamp"``, or Polars types).
    """
    types = {k: _dtype(v) for k, v in (schema or {}).items()}
    if isinstance(rows, pl.DataFrame):
        return rows.cast(types) if types else rows  # type: ignore[arg-type]
    if not rows:
        return pl.DataFrame(schema=types)
    data: Any = dict(rows) if isinstance(rows, Mapping) else list(rows)
    return pl.DataFrame(data, schema_overrides=types or None)


def _dtype(value: Any) -> Any:
    return polars_dtype(value) if isinstance(value, str) else value


def _hashable(value: Any) -> Hashable:
    if isinstance(value, list | tuple):
        return tuple(_hashable(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _hashable(v)) for k, v in value.items()))
    return value  # type: ignore[no-any-return]


def _show(rows: Sequence[tuple[Any, ...]], columns: Sequence[str], limit: int = 5) -> str:
    shown = [dict(zip(columns, row, strict=True)) for row in rows[:limit]]
    more = f" … and {len(rows) - limit} more" if len(rows) > limit else ""
    return f"{shown}{more}"


def assert_rows(
    frame: pl.DataFrame,
    expected: Rows,
    *,
    ordered: bool = False,
    columns: Sequence[str] | None = None,
) -> None:
    """Assert ``frame`` holds exactly the ``expected`` rows.

    Values compare as Python values (``10 == 10.0``); rows match in any order unless
    ``ordered``. The column sets must be equal, unless ``columns`` names the ones to
    compare.

    Raises:
        AssertionError: listing missing and unexpected rows (a few of each) or columns.
    """
    wanted = to_frame(expected)
    names = list(columns) if columns is not None else list(wanted.columns)
    if columns is None and set(wanted.columns) != set(frame.columns):
        raise AssertionError(
            f"columns differ: expected {sorted(wanted.columns)}, got {sorted(frame.columns)}"
        )
    missing_cols = [c for c in names if c not in frame.columns or c not in wanted.columns]
    if missing_cols:
        raise AssertionError(f"columns {missing_cols} are not in both frames")
    actual_rows = [tuple(_hashable(v) for v in r) for r in frame.select(names).rows()]
    wanted_rows = [tuple(_hashable(v) for v in r) for r in wanted.select(names).rows()]
    if ordered:
        if actual_rows != wanted_rows:
            raise AssertionError(
                f"rows differ (in order):\n  expected {_show(wanted_rows, names)}\n"
                f"  got      {_show(actual_rows, names)}"
            )
        return
    have, want = Counter(actual_rows), Counter(wanted_rows)
    missing = list((want - have).elements())
    extra = list((have - want).elements())
    if missing or extra:
        lines = [f"rows differ: expected {len(wanted_rows)} rows, got {len(actual_rows)}"]
        if missing:
            lines.append(f"  missing    {_show(missing, names)}")
        if extra:
            lines.append(f"  unexpected {_show(extra, names)}")
        raise AssertionError("\n".join(lines))


def assert_schema(frame: pl.DataFrame, expected: Mapping[str, Any], *, exact: bool = True) -> None:
    """Assert ``frame``'s columns have the ``expected`` types (type names or Polars types).

    With ``exact`` (default) the frame has no other columns; column order is ignored.

    Raises:
        AssertionError: listing every missing, extra or mistyped column.
    """
    problems = []
    for name, dtype in expected.items():
        if name not in frame.schema:
            problems.append(f"missing column {name!r}")
        elif frame.schema[name] != _dtype(dtype):
            problems.append(f"column {name!r} is {frame.schema[name]}, expected {_dtype(dtype)}")
    if exact:
        problems += [f"unexpected column {n!r}" for n in frame.columns if n not in expected]
    if problems:
        raise AssertionError("schema differs: " + "; ".join(problems))
