"""The query spec: filters, sorts and pagination every repository backend understands.

A :class:`QuerySpec` names fields and values only; a backend turns it into SQL with bound
parameters (or, for the in-memory backend, into Python predicates), so user input never
becomes query text. :func:`validate_query` checks a spec against a model before it runs.

Example:
    >>> from loom.core.repository.abc.query import FilterGroup, FilterOp, FilterSpec, QuerySpec
    >>> query = QuerySpec(
    ...     filters=FilterGroup(filters=(FilterSpec(field="stock", op=FilterOp.LTE, value=5),)),
    ...     limit=20,
    ... )
    >>> query.mode
    <PaginationMode.OFFSET: 'offset'>

"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, time
from decimal import Decimal
from enum import Enum, StrEnum
from typing import Any, Generic, Literal, TypeGuard, TypeVar, get_args, get_origin
from uuid import UUID

import msgspec

from loom.core.errors import FieldError, ValidationError
from loom.core.model import ColumnSpec, model_info

__all__ = [
    "MAX_LIMIT",
    "CursorResult",
    "FilterGroup",
    "FilterOp",
    "FilterSpec",
    "PageResult",
    "PaginationMode",
    "QuerySpec",
    "SortSpec",
    "filter_value_problem",
    "validate_query",
]

T = TypeVar("T")

MAX_LIMIT = 500
"""The hard cap on ``QuerySpec.limit``; a REST runtime may configure a lower one."""


class FilterOp(StrEnum):
    """A comparison a filter applies; the values are the REST ``field__op`` suffixes."""

    EQ = "eq"
    NE = "ne"
    GT = "gt"
    GTE = "gte"
    LT = "lt"
    LTE = "lte"
    IN = "in"
    LIKE = "like"
    ILIKE = "ilike"
    IS_NULL = "is_null"


class PaginationMode(StrEnum):
    """How a list is paged: by page number (``offset``) or by keyset cursor (``cursor``)."""

    OFFSET = "offset"
    CURSOR = "cursor"


def _invalid(field: str, message: str) -> ValidationError:
    return ValidationError(errors=[FieldError(field, message)])


class FilterSpec(msgspec.Struct, frozen=True, kw_only=True, tag_field="kind", tag="filter"):
    """One condition: ``field op value``.

    Semantics follow SQL: a comparison with a NULL column value is false (use
    ``IS_NULL``); ``IN`` takes a list or tuple; ``IS_NULL`` takes a bool (``True``: the
    value is NULL, ``False``: it is not); ``LIKE``/``ILIKE`` patterns use ``%`` and ``_``
    as wildcards and a backslash to match either literally.
    """

    field: str
    op: FilterOp = FilterOp.EQ
    value: Any = None

    def __post_init__(self) -> None:
        if not isinstance(self.op, FilterOp):
            try:
                msgspec.structs.force_setattr(self, "op", FilterOp(self.op))
            except ValueError:
                ops = ", ".join(op.value for op in FilterOp)
                raise _invalid(
                    f"filters.{self.field}", f"unknown operator {self.op!r}; use one of: {ops}"
                ) from None


class FilterGroup(msgspec.Struct, frozen=True, kw_only=True, tag_field="kind", tag="group"):
    """Filters (and nested groups) combined with ``AND`` or ``OR``; an empty group matches all.

    Encoded, each item of ``filters`` carries ``"kind": "filter"`` or ``"kind": "group"``
    so a decoder can tell them apart (the top-level group needs no ``kind``).
    """

    filters: tuple[FilterSpec | FilterGroup, ...] = ()
    op: Literal["AND", "OR"] = "AND"

    def __post_init__(self) -> None:
        if self.op not in ("AND", "OR"):
            raise _invalid("filters", f"unknown group operator {self.op!r}; use AND or OR")
        if not isinstance(self.filters, tuple):
            msgspec.structs.force_setattr(self, "filters", tuple(self.filters))


class SortSpec(msgspec.Struct, frozen=True, kw_only=True):
    """Order by ``field``; NULLs come last in ``ASC`` and first in ``DESC`` (as PostgreSQL)."""

    field: str
    direction: Literal["ASC", "DESC"] = "ASC"

    def __post_init__(self) -> None:
        if self.direction not in ("ASC", "DESC"):
            raise _invalid(
                f"sort.{self.field}", f"unknown direction {self.direction!r}; use ASC or DESC"
            )

    @property
    def descending(self) -> bool:
        """True for ``DESC``."""
        return self.direction == "DESC"


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _paging_errors(limit: object, page: object) -> list[FieldError]:
    errors: list[FieldError] = []
    if not _is_int(limit) or not 1 <= limit <= MAX_LIMIT:
        errors.append(FieldError("limit", f"must be an integer from 1 to {MAX_LIMIT}"))
    if not _is_int(page) or page < 1:
        errors.append(FieldError("page", "must be an integer of at least 1"))
    return errors


class QuerySpec(msgspec.Struct, frozen=True, kw_only=True):
    """What to list: filters, sort, and which page.

    ``limit`` must be between 1 and :data:`MAX_LIMIT` and ``page`` at least 1, else a
    :class:`~loom.core.errors.ValidationError` naming ``limit``/``page`` is raised on
    construction. In cursor mode ``page`` is ignored; a ``cursor`` (from a previous
    :class:`CursorResult`) implies cursor mode whatever ``pagination`` says.
    """

    filters: FilterGroup | None = None
    sort: tuple[SortSpec, ...] = ()
    pagination: PaginationMode = PaginationMode.OFFSET
    limit: int = 50
    page: int = 1
    cursor: str | None = None

    def __post_init__(self) -> None:
        errors = _paging_errors(self.limit, self.page)
        if not isinstance(self.pagination, PaginationMode):
            try:
                msgspec.structs.force_setattr(self, "pagination", PaginationMode(self.pagination))
            except ValueError:
                errors.append(FieldError("pagination", "must be 'offset' or 'cursor'"))
        if self.cursor is not None and not isinstance(self.cursor, str):
            errors.append(FieldError("cursor", "must be a string"))
        if not isinstance(self.sort, tuple):
            msgspec.structs.force_setattr(self, "sort", tuple(self.sort))
        if errors:
            raise ValidationError(errors=errors)

    @property
    def mode(self) -> PaginationMode:
        """The effective mode: ``CURSOR`` when asked for or when a cursor is given."""
        if self.cursor is not None:
            return PaginationMode.CURSOR
        return self.pagination

    @property
    def offset(self) -> int:
        """Rows to skip in offset mode: ``(page - 1) * limit``."""
        return (self.page - 1) * self.limit


class PageResult(msgspec.Struct, Generic[T], frozen=True, kw_only=True):
    """One offset page: the items, the total number of matching rows, and whether more follow."""

    items: list[T]
    total_count: int
    page: int
    limit: int
    has_next: bool


class CursorResult(msgspec.Struct, Generic[T], frozen=True, kw_only=True):
    """One keyset page: the items and the opaque cursor of the next page (``None`` at the end)."""

    items: list[T]
    next_cursor: str | None
    has_next: bool


def validate_query(query: QuerySpec, model: type[Any]) -> None:
    """Check that ``query`` only names ``model``'s columns, with values that fit them.

    Every filter and sort field must be a declared column (not a relation or projection),
    sorted on at most once; each filter value must fit the column's type for its operator
    (``IN`` takes a list or tuple of such values, ``IS_NULL`` a bool, ``LIKE``/``ILIKE`` a
    string pattern on a string column; a NULL comparison value is refused, use
    ``IS_NULL``; a datetime must be timezone-aware). ``limit`` and ``page`` are checked
    again, since ``force_setattr`` bypasses ``__post_init__``.

    Raises:
        ValidationError: listing every problem, with paths like ``filters.stock`` and
            ``sort.price``.

    """
    columns = model_info(model).columns
    errors = _paging_errors(query.limit, query.page)
    if query.filters is not None:
        _check_group(query.filters, columns, errors)
    seen: set[str] = set()
    for spec in query.sort:
        path = f"sort.{spec.field}"
        column = columns.get(spec.field)
        if column is None:
            errors.append(FieldError(path, _unknown(columns)))
        elif spec.field in seen:
            errors.append(FieldError(path, "sorted on more than once"))
        elif _scalar_kind(column.python_type) is None:
            errors.append(FieldError(path, "this field cannot be sorted on"))
        seen.add(spec.field)
    if errors:
        raise ValidationError(errors=errors)


def _unknown(columns: Mapping[str, ColumnSpec]) -> str:
    return f"unknown field; use one of: {', '.join(sorted(columns))}"


def _check_group(
    group: FilterGroup, columns: Mapping[str, ColumnSpec], errors: list[FieldError]
) -> None:
    for item in group.filters:
        if isinstance(item, FilterGroup):
            _check_group(item, columns, errors)
            continue
        path = f"filters.{item.field}"
        column = columns.get(item.field)
        if column is None:
            errors.append(FieldError(path, _unknown(columns)))
            continue
        problem = filter_value_problem(item.op, item.value, column.python_type)
        if problem is not None:
            errors.append(FieldError(path, problem))


_ORDERED_SCALARS: tuple[type, ...] = (datetime, date, time, Decimal, UUID, bytes, str)


def _scalar_kind(tp: Any) -> str | None:
    """Name the kind of scalar ``tp`` is (how values are checked), or ``None`` if not one."""
    if tp is bool:
        return "bool"
    if tp is int:
        return "int"
    if tp is float:
        return "float"
    if get_origin(tp) is Literal:
        return "literal"
    if isinstance(tp, type):
        if issubclass(tp, Enum):
            return "enum"
        if tp in _ORDERED_SCALARS:
            return tp.__name__
    return None


def _fits(value: Any, tp: Any, kind: str) -> bool:
    if kind == "int":
        return _is_int(value)
    if kind == "float":
        return _is_int(value) or isinstance(value, float)
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "Decimal":
        return _is_int(value) or isinstance(value, Decimal)
    if kind == "date":
        return isinstance(value, date) and not isinstance(value, datetime)
    if kind == "datetime":
        return isinstance(value, datetime) and value.tzinfo is not None
    if kind == "literal":
        return value in get_args(tp)
    if kind == "enum":
        return isinstance(value, tp) or value in {m.value for m in tp}
    return isinstance(value, tp)


def _describe(tp: Any, kind: str) -> str:
    if kind == "datetime":
        return "a timezone-aware datetime"
    if kind == "literal":
        return "one of " + ", ".join(repr(a) for a in get_args(tp))
    if kind == "enum":
        return "one of " + ", ".join(repr(m.value) for m in tp)
    return f"a value of type {kind}"


def _trailing_escape(pattern: str) -> bool:
    stripped = pattern.rstrip("\\")
    return (len(pattern) - len(stripped)) % 2 == 1


def filter_value_problem(op: FilterOp, value: Any, python_type: Any) -> str | None:
    """Say what is wrong with filtering a ``python_type`` column by ``op value``, or ``None``.

    This is the per-filter check :func:`validate_query` applies; backends may reuse it.
    """
    if op is FilterOp.IS_NULL:
        return None if isinstance(value, bool) else "is_null takes true or false"
    kind = _scalar_kind(python_type)
    if kind is None:
        return "this field can only be filtered with is_null"
    if op in (FilterOp.LIKE, FilterOp.ILIKE):
        if kind != "str":
            return f"{op.value} works on text fields only"
        if not isinstance(value, str):
            return f"{op.value} takes a text pattern"
        if _trailing_escape(value):
            return f"{op.value} pattern must not end with an escape character (\\)"
        return None
    values: Sequence[Any]
    if op is FilterOp.IN:
        if not isinstance(value, (list, tuple)):
            return "in takes a list of values"
        values = value
    else:
        values = (value,)
    for item in values:
        if item is None:
            return f"null cannot be compared with {op.value}; use is_null"
        if not _fits(item, python_type, kind):
            return f"{op.value} takes {_describe(python_type, kind)}, got {type(item).__name__}"
    return None
