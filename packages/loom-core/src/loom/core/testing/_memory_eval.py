"""Filters and ordering over row dicts, with SQL (PostgreSQL) semantics."""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from enum import Enum
from typing import Any

from loom.core.repository.abc.query import FilterGroup, FilterOp, FilterSpec, SortSpec

__all__ = ["Row", "compare_keys", "like_regex", "matches", "row_key", "sort_rows"]

Row = dict[str, Any]


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, Enum) else value


@functools.lru_cache(maxsize=256)
def like_regex(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    r"""Compile a LIKE pattern: ``%`` any run, ``_`` one character, ``\`` escapes the next."""
    parts: list[str] = []
    escaped = False
    for char in pattern:
        if escaped:
            parts.append(re.escape(char))
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "%":
            parts.append(".*")
        elif char == "_":
            parts.append(".")
        else:
            parts.append(re.escape(char))
    flags = re.DOTALL | (re.IGNORECASE if ignore_case else 0)
    return re.compile("".join(parts), flags)


def _compare(op: FilterOp, left: Any, right: Any) -> bool:
    if op is FilterOp.EQ:
        return bool(left == right)
    if op is FilterOp.NE:
        return bool(left != right)
    if op is FilterOp.GT:
        return bool(left > right)
    if op is FilterOp.GTE:
        return bool(left >= right)
    if op is FilterOp.LT:
        return bool(left < right)
    return bool(left <= right)


def _matches_spec(spec: FilterSpec, row: Row) -> bool:
    value = _plain(row.get(spec.field))
    if spec.op is FilterOp.IS_NULL:
        return (value is None) is bool(spec.value)
    if value is None:
        return False  # a comparison with NULL is never true
    if spec.op is FilterOp.IN:
        return any(value == _plain(item) for item in spec.value)
    if spec.op in (FilterOp.LIKE, FilterOp.ILIKE):
        regex = like_regex(str(spec.value), spec.op is FilterOp.ILIKE)
        return regex.fullmatch(str(value)) is not None
    return _compare(spec.op, value, _plain(spec.value))


def matches(group: FilterGroup | None, row: Row) -> bool:
    """True when ``row`` satisfies ``group`` (``None`` and an empty group match every row).

    Without a NOT operator, treating SQL's UNKNOWN as false gives SQL's result.
    """
    if group is None or not group.filters:
        return True
    results = (
        matches(item, row) if isinstance(item, FilterGroup) else _matches_spec(item, row)
        for item in group.filters
    )
    return all(results) if group.op == "AND" else any(results)


def row_key(row: Row, sort: Sequence[SortSpec]) -> list[Any]:
    """The row's values of the sort fields, in order (what a cursor holds)."""
    return [row.get(spec.field) for spec in sort]


def compare_keys(left: Sequence[Any], right: Sequence[Any], sort: Sequence[SortSpec]) -> int:
    """Compare two sort keys: NULLs last in ``ASC`` and first in ``DESC``, like PostgreSQL."""
    for a, b, spec in zip(left, right, sort, strict=True):
        a, b = _plain(a), _plain(b)
        if a == b or (a is None and b is None):
            continue
        if a is None:
            result = 1
        elif b is None:
            result = -1
        else:
            result = -1 if a < b else 1
        return -result if spec.descending else result
    return 0


def sort_rows(rows: list[Row], sort: Sequence[SortSpec]) -> list[Row]:
    """Return ``rows`` ordered by ``sort`` (which should end with the primary key)."""

    def compare(a: Row, b: Row) -> int:
        return compare_keys(row_key(a, sort), row_key(b, sort), sort)

    return sorted(rows, key=functools.cmp_to_key(compare))
