"""Query specs to SQL clauses: filters, sorts and keyset predicates, values always bound."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Column, Table, and_, false, func, or_, true, tuple_
from sqlalchemy.sql.elements import BindParameter, ColumnElement, UnaryExpression

from loom.core.repository.abc.query import FilterGroup, FilterOp, FilterSpec, SortSpec

__all__ = ["ClauseBuilder", "like_to_glob"]

LIKE_ESCAPE = "\\"

_GLOB_SPECIAL = frozenset("*?[")


def like_to_glob(pattern: str) -> str:
    r"""Translate a LIKE pattern (``%``, ``_``, ``\`` escapes) into an SQLite GLOB pattern.

    GLOB is case-sensitive, as LIKE is on PostgreSQL; its own wildcards in the data
    (``*``, ``?``, ``[``) are matched literally through one-character classes.
    """
    out: list[str] = []
    escaped = False
    for char in pattern:
        if escaped:
            out.append(f"[{char}]" if char in _GLOB_SPECIAL else char)
            escaped = False
        elif char == LIKE_ESCAPE:
            escaped = True
        elif char == "%":
            out.append("*")
        elif char == "_":
            out.append("?")
        else:
            out.append(f"[{char}]" if char in _GLOB_SPECIAL else char)
    return "".join(out)


def _glob(left: ColumnElement[Any], pattern: str) -> ColumnElement[bool]:
    return left.op("GLOB", is_comparison=True)(pattern)


class ClauseBuilder:
    """Builds the WHERE and ORDER BY clauses of one table for one dialect.

    Args:
        table: The table queried.
        dialect: ``"postgresql"`` or ``"sqlite"`` (LIKE/ILIKE compile differently).
    """

    def __init__(self, table: Table, dialect: str) -> None:
        self.table = table
        self.sqlite = dialect == "sqlite"
        self._ops: dict[FilterOp, Callable[[Column[Any], Any], ColumnElement[bool]]] = {
            FilterOp.EQ: lambda c, v: c == v,
            FilterOp.NE: lambda c, v: c != v,
            FilterOp.GT: lambda c, v: c > v,
            FilterOp.GTE: lambda c, v: c >= v,
            FilterOp.LT: lambda c, v: c < v,
            FilterOp.LTE: lambda c, v: c <= v,
            FilterOp.IN: lambda c, v: c.in_(list(v)) if len(v) else false(),
            FilterOp.IS_NULL: lambda c, v: c.is_(None) if v else c.is_not(None),
            FilterOp.LIKE: self._like,
            FilterOp.ILIKE: self._ilike,
        }
        self._orders: dict[tuple[str, bool], UnaryExpression[Any]] = {}

    def _like(self, column: Column[Any], pattern: Any) -> ColumnElement[bool]:
        if self.sqlite:
            return _glob(column, self.bound(FilterOp.LIKE, pattern))
        return column.like(pattern, escape=LIKE_ESCAPE)

    def _ilike(self, column: Column[Any], pattern: Any) -> ColumnElement[bool]:
        if self.sqlite:
            return _glob(func.loom_lower(column), self.bound(FilterOp.ILIKE, pattern))
        return column.ilike(pattern, escape=LIKE_ESCAPE)

    def bound(self, op: FilterOp, value: Any) -> Any:
        """The value bound for ``op value``: SQLite binds LIKE/ILIKE patterns as GLOBs.

        A :class:`~sqlalchemy.sql.elements.BindParameter` (a statement built once, see
        :class:`~loom.store._pages.PageStatements`) is returned as it is: its value is
        translated when the statement runs.
        """
        if not self.sqlite or isinstance(value, BindParameter):
            return value
        if op is FilterOp.LIKE:
            return like_to_glob(value)
        if op is FilterOp.ILIKE:
            return like_to_glob(value.lower())
        return value

    def condition(self, spec: FilterSpec) -> ColumnElement[bool]:
        """One filter as a SQL condition; the value is a bound parameter."""
        return self._ops[spec.op](self.table.c[spec.field], spec.value)

    def where(self, group: FilterGroup | None) -> ColumnElement[bool] | None:
        """The WHERE clause of ``group`` (``None`` when it matches every row)."""
        if group is None or not group.filters:
            return None
        return self._group(group)

    def _group(self, group: FilterGroup) -> ColumnElement[bool]:
        if not group.filters:
            return true()
        parts = [
            self._group(item) if isinstance(item, FilterGroup) else self.condition(item)
            for item in group.filters
        ]
        if len(parts) == 1:
            return parts[0]
        return and_(*parts) if group.op == "AND" else or_(*parts)

    def order_by(self, sort: Sequence[SortSpec]) -> list[UnaryExpression[Any]]:
        """ORDER BY terms: NULLs last in ``ASC``, first in ``DESC`` (on every dialect)."""
        terms: list[UnaryExpression[Any]] = []
        for spec in sort:
            key = (spec.field, spec.descending)
            term = self._orders.get(key)
            if term is None:
                column = self.table.c[spec.field]
                term = column.desc() if spec.descending else column.asc()
                if column.nullable:
                    term = term.nulls_first() if spec.descending else term.nulls_last()
                self._orders[key] = term
            terms.append(term)
        return terms

    def after(self, sort: Sequence[SortSpec], values: Sequence[Any]) -> ColumnElement[bool]:
        """The rows that sort strictly after the row whose sort values are ``values``.

        ``sort`` ends with a unique non-null key. Without nullable columns and with one
        direction this is a row-value comparison (index friendly); otherwise the
        expanded form ``(a > x) OR (a = x AND b > y) ...`` with NULLs placed last in
        ``ASC`` and first in ``DESC``.
        """
        columns = [self.table.c[spec.field] for spec in sort]
        directions = {spec.descending for spec in sort}
        if len(directions) == 1 and not any(c.nullable for c in columns):
            compared: ColumnElement[bool]
            if len(columns) == 1:
                column, value = columns[0], values[0]
                compared = column < value if sort[0].descending else column > value
            else:
                left = tuple_(*columns)
                right: Any = (
                    tuple_(*values)
                    if all(isinstance(v, BindParameter) for v in values)
                    else tuple(values)
                )
                compared = left < right if sort[0].descending else left > right
            return compared
        branches: list[ColumnElement[bool]] = []
        equal: list[ColumnElement[bool]] = []
        for spec, column, value in zip(sort, columns, values, strict=True):
            beyond = self._beyond(column, spec.descending, value)
            if beyond is not None:
                branches.append(and_(*equal, beyond) if equal else beyond)
            equal.append(column.is_(None) if value is None else column == value)
        return or_(*branches) if branches else false()

    @staticmethod
    def _beyond(column: Column[Any], descending: bool, value: Any) -> ColumnElement[bool] | None:
        if descending:
            return column.is_not(None) if value is None else column < value
        if value is None:
            return None
        return or_(column > value, column.is_(None)) if column.nullable else column > value
