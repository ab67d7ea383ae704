"""List-page statements built once per query shape, their values bound by name.

A query's *shape* is everything that changes the SQL text: the filter tree (fields,
operators, ``IN`` list lengths, ``IS NULL`` or ``IS NOT NULL``), the sort, the pagination
mode and which keyset values are NULL. Everything else (filter values, cursor values,
limit, offset) is a bound parameter, so each shape is built once, compiled once by
SQLAlchemy's cache, and compiled once more by the lean read path.
"""

from __future__ import annotations

import functools
import itertools
from collections import OrderedDict
from collections.abc import Hashable, Iterator, Sequence
from typing import Any

from sqlalchemy import Column, Integer, Select, Table, bindparam, func, select
from sqlalchemy.sql.elements import BindParameter, ColumnElement

from loom.core.repository.abc.query import FilterGroup, FilterOp, FilterSpec, SortSpec
from loom.store._filters import ClauseBuilder
from loom.store._reads import ReadStatement

__all__ = ["LIMIT_PARAM", "OFFSET_PARAM", "SHAPES_PER_MODEL", "TOTAL", "PageStatements"]

LIMIT_PARAM = "loom_limit"
OFFSET_PARAM = "loom_offset"
TOTAL = "loom_total"
"""Label of the ``count(*) OVER ()`` column that ends an offset page's rows."""

SHAPES_PER_MODEL = 256
"""Page statements kept per model; the least recently used shape is dropped beyond it."""


@functools.cache
def _names(prefix: str, count: int) -> tuple[str, ...]:
    return tuple(f"{prefix}{index}" for index in range(count))


class PageStatements:
    """The offset and keyset page statements of one model, cached per query shape.

    Args:
        table: The model's table.
        columns: Its columns, in :attr:`RowCodec.names` order.
        clauses: Its clause builder.
        size: How many shapes to keep.
    """

    def __init__(
        self,
        table: Table,
        columns: Sequence[Column[Any]],
        clauses: ClauseBuilder,
        *,
        size: int = SHAPES_PER_MODEL,
    ) -> None:
        self.table = table
        self.columns = tuple(columns)
        self.clauses = clauses
        self.size = size
        self._cache: OrderedDict[Hashable, ReadStatement] = OrderedDict()

    def __len__(self) -> int:
        return len(self._cache)

    def offset(
        self, filters: FilterGroup | None, sort: Sequence[SortSpec], *, limit: int, offset: int
    ) -> tuple[ReadStatement, dict[str, Any]]:
        """The offset page statement of this shape (rows end with :data:`TOTAL`) and its values.

        Args:
            filters: The validated filters.
            sort: The sort, ending with a unique key.
            limit: Rows per page.
            offset: Rows skipped.
        """
        values: list[Any] = []
        shape = ("offset", self._shape(filters, values), _sort_key(sort))
        read = self._cached(shape)
        if read is None:
            statement: Select[Any] = select(*self.columns, func.count().over().label(TOTAL))
            where = self._where(filters)
            if where is not None:
                statement = statement.where(where)
            statement = (
                statement.order_by(*self.clauses.order_by(sort))
                .limit(bindparam(LIMIT_PARAM, type_=Integer))
                .offset(bindparam(OFFSET_PARAM, type_=Integer))
            )
            read = self._store(shape, statement)
        params = dict(zip(_names("loom_f", len(values)), values, strict=True))
        params[LIMIT_PARAM] = limit
        params[OFFSET_PARAM] = offset
        return read, params

    def cursor(
        self,
        filters: FilterGroup | None,
        sort: Sequence[SortSpec],
        *,
        limit: int,
        after: Sequence[Any] | None,
    ) -> tuple[ReadStatement, dict[str, Any]]:
        """The keyset page statement of this shape and its values.

        Args:
            filters: The validated filters.
            sort: The sort, ending with a unique non-null key.
            limit: Rows to fetch.
            after: The sort values of the row the page starts after (``None``: first page).
        """
        values: list[Any] = []
        nulls = None if after is None else tuple(value is None for value in after)
        shape = ("cursor", self._shape(filters, values), _sort_key(sort), nulls)
        read = self._cached(shape)
        names = _names("loom_c", len(sort))
        if read is None:
            statement = select(*self.columns)
            where = self._where(filters)
            if where is not None:
                statement = statement.where(where)
            if after is not None:
                marks = [
                    None if value is None else self._param(name, spec.field)
                    for name, spec, value in zip(names, sort, after, strict=True)
                ]
                statement = statement.where(self.clauses.after(sort, marks))
            statement = statement.order_by(*self.clauses.order_by(sort)).limit(
                bindparam(LIMIT_PARAM, type_=Integer)
            )
            read = self._store(shape, statement)
        params = dict(zip(_names("loom_f", len(values)), values, strict=True))
        if after is not None:
            params.update(
                (name, value) for name, value in zip(names, after, strict=True) if value is not None
            )
        params[LIMIT_PARAM] = limit
        return read, params

    # -- shapes -----------------------------------------------------------------------------

    def _cached(self, shape: Hashable) -> ReadStatement | None:
        read = self._cache.get(shape)
        if read is not None:
            self._cache.move_to_end(shape)
        return read

    def _store(self, shape: Hashable, statement: Select[Any]) -> ReadStatement:
        read = ReadStatement(statement)
        self._cache[shape] = read
        while len(self._cache) > self.size:
            self._cache.popitem(last=False)
        return read

    def _shape(self, group: FilterGroup | None, values: list[Any]) -> Hashable:
        """The shape of ``group``; appends its bound values to ``values`` in SQL order."""
        if group is None:
            return None
        parts: list[Hashable] = []
        bound = self.clauses.bound
        for item in group.filters:
            if isinstance(item, FilterGroup):
                parts.append(self._shape(item, values))
            elif item.op is FilterOp.IS_NULL:
                parts.append((item.field, item.op, bool(item.value)))
            elif item.op is FilterOp.IN:
                parts.append((item.field, item.op, len(item.value)))
                values.extend(item.value)
            else:
                parts.append((item.field, item.op))
                values.append(bound(item.op, item.value))
        return (group.op, tuple(parts))

    def _where(self, group: FilterGroup | None) -> ColumnElement[bool] | None:
        if group is None:
            return None
        return self.clauses.where(self._template(group, itertools.count()))

    def _template(self, group: FilterGroup, numbers: Iterator[int]) -> FilterGroup:
        """``group`` with its values replaced by parameters, numbered as :meth:`_shape` does."""
        items: list[FilterSpec | FilterGroup] = []
        for item in group.filters:
            if isinstance(item, FilterGroup):
                items.append(self._template(item, numbers))
            elif item.op is FilterOp.IS_NULL:
                items.append(item)
            elif item.op is FilterOp.IN:
                marks = [self._param(f"loom_f{next(numbers)}", item.field) for _ in item.value]
                items.append(FilterSpec(field=item.field, op=item.op, value=marks))
            else:
                mark = self._param(f"loom_f{next(numbers)}", item.field)
                items.append(FilterSpec(field=item.field, op=item.op, value=mark))
        return FilterGroup(filters=tuple(items), op=group.op)

    def _param(self, name: str, field: str) -> BindParameter[Any]:
        return bindparam(name, type_=self.table.c[field].type)


def _sort_key(sort: Sequence[SortSpec]) -> tuple[tuple[str, bool], ...]:
    return tuple((spec.field, spec.descending) for spec in sort)
