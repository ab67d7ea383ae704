"""Binding a request's path and query string to a use case's ``params``, every runtime alike."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from loom.core.errors import CompilationError, FieldError, ValidationError
from loom.core.http._parsers import (
    cursor_parser,
    filter_parser,
    pagination_parser,
    param_parser,
    ranged_int_parser,
    sort_parser,
)
from loom.core.http._settings import MAX_PAGE, ListSettings
from loom.core.http._values import BadValue, Parser, filter_ops, scalar_kind
from loom.core.interface import PathParam, QueryParam, RouteSpec
from loom.core.model import model_info
from loom.core.repository.abc.query import (
    FilterGroup,
    FilterOp,
    FilterSpec,
    PaginationMode,
    QuerySpec,
)

__all__ = [
    "LIST_PARAMS",
    "FilterParam",
    "PlainParam",
    "Query",
    "RequestBinder",
    "bind_request",
    "request_binder",
]

Query = Sequence[tuple[str, str]] | Mapping[str, str | Sequence[str]]
"""A query string as ``(name, value)`` pairs, or a mapping of names to one or more values."""

LIST_PARAMS = ("limit", "page", "cursor", "pagination", "sort")
"""The reserved query parameters of list routes (filters are ``field__op``)."""

_PLAIN, _FILTER, _LIMIT, _PAGE, _CURSOR, _PAGINATION, _SORT = range(7)
_ALL_OPS = frozenset(op.value for op in FilterOp)


@dataclass(frozen=True, slots=True)
class PlainParam:
    """A plain ``execute`` parameter read from the query string, under its published name."""

    name: str
    param: QueryParam


@dataclass(frozen=True, slots=True)
class FilterParam:
    """One ``field__op`` filter a list route accepts, under its published name."""

    name: str
    field: str
    op: FilterOp
    python_type: Any


class _Slot:
    __slots__ = ("key", "kind", "op", "parse", "target")

    def __init__(
        self, kind: int, key: str, target: str, parse: Parser, op: FilterOp = FilterOp.EQ
    ) -> None:
        self.kind = kind
        self.key = key
        self.target = target
        self.parse = parse
        self.op = op


class RequestBinder:
    """The precomputed parameter table of one route: a request costs dict lookups only.

    Build it once per route (``request_binder`` caches it) and call :meth:`bind` per request.

    Attributes:
        spec: The route.
        settings: The list settings it was built with.
        path_params: The ``{name}`` segments.
        plain_params: Plain ``execute`` parameters read from the query string.
        filters: The ``field__op`` filters (list routes only), in column then operator order.
        sortable: The published names ``sort`` accepts (list routes only).
    """

    __slots__ = (
        "_filter_fields",
        "_names",
        "_path",
        "_query_param",
        "_required",
        "_slots",
        "filters",
        "path_params",
        "plain_params",
        "settings",
        "sortable",
        "spec",
    )

    def __init__(self, spec: RouteSpec, settings: ListSettings) -> None:
        self.spec = spec
        self.settings = settings
        self.path_params: tuple[PathParam, ...] = spec.path_params
        self._path = tuple((p.name, param_parser(p.type, p.convert)) for p in spec.path_params)
        self._slots: dict[str, _Slot] = {}
        self._required: list[tuple[str, str]] = []
        plain: list[PlainParam] = []
        for param in spec.query_params:
            name = settings.published(param.name)
            plain.append(PlainParam(name, param))
            slot = _Slot(_PLAIN, param.name, param.name, param_parser(param.type, param.convert))
            self._add((name, param.name), slot)
            if param.required:
                self._required.append((param.name, name))
        self.plain_params = tuple(plain)
        self._query_param = spec.plan.query_param if spec.list_model is not None else None
        # each spelling of a column -> (published name, kind, operators), for error messages
        self._filter_fields: dict[str, tuple[str, str, tuple[FilterOp, ...]]] = {}
        filters: list[FilterParam] = []
        sort_table: dict[str, str] = {}
        sortable: list[str] = []
        if self._query_param is not None and spec.list_model is not None:
            for column in model_info(spec.list_model).columns.values():
                published = settings.published(column.name)
                spellings = dict.fromkeys((published, column.name))
                ops = filter_ops(column.python_type, column.nullable)
                kind = scalar_kind(column.python_type) or "other"
                for spelling in spellings:
                    self._filter_fields[spelling] = (published, kind, ops)
                if kind != "other":
                    sortable.append(published)
                    sort_table.update(dict.fromkeys(spellings, column.name))
                for op in ops:
                    parse = filter_parser(op, column.python_type)
                    filters.append(
                        FilterParam(f"{published}__{op}", column.name, op, column.python_type)
                    )
                    slot = _Slot(_FILTER, f"{column.name}__{op}", column.name, parse, op)
                    self._add(tuple(f"{s}__{op}" for s in spellings), slot)
            max_limit = settings.max_limit
            self._add(("limit",), _Slot(_LIMIT, "limit", "limit", ranged_int_parser(1, max_limit)))
            self._add(("page",), _Slot(_PAGE, "page", "page", ranged_int_parser(1, MAX_PAGE)))
            self._add(("cursor",), _Slot(_CURSOR, "cursor", "cursor", cursor_parser))
            self._add(
                ("pagination",), _Slot(_PAGINATION, "pagination", "pagination", pagination_parser)
            )
            self._add(("sort",), _Slot(_SORT, "sort", "sort", sort_parser(sort_table, sortable)))
        self.filters = tuple(filters)
        self.sortable = tuple(sortable)
        self._names = tuple(
            [p.name for p in plain] + ([*LIST_PARAMS] if self._query_param is not None else [])
        )

    @property
    def is_list(self) -> bool:
        """True when the route takes list parameters and binds a ``QuerySpec``."""
        return self._query_param is not None

    def _add(self, names: Iterable[str], slot: _Slot) -> None:
        for name in names:
            taken = self._slots.get(name)
            if taken is not None and taken is not slot:
                raise CompilationError(
                    f"{self.spec.method} {self.spec.path}: the query parameter {name!r} is "
                    f"both {taken.key!r} and {slot.key!r}; rename the parameter of "
                    f"{self.spec.plan.name}.execute()"
                )
            self._slots[name] = slot

    def bind(self, path_params: Mapping[str, str], query: Query) -> dict[str, Any]:
        """Return the ``params`` of ``Executor.run`` for one request.

        Raises:
            ValidationError: listing every problem, each naming the parameter as sent.
        """
        errors: list[FieldError] = []
        params: dict[str, Any] = {}
        for name, parse in self._path:
            raw = path_params.get(name)
            if raw is None:
                errors.append(FieldError(name, "missing path parameter"))
                continue
            try:
                params[name] = parse(raw)
            except BadValue as exc:
                errors.append(FieldError(name, str(exc)))
        seen: set[str] = set()
        filters: list[FilterSpec] = []
        listing: dict[int, tuple[str, Any]] = {}
        for name, raw in _pairs(query):
            slot = self._slots.get(name)
            if slot is None:
                errors.append(FieldError(name, self._unknown(name)))
                continue
            if slot.key in seen:
                errors.append(FieldError(name, "given more than once; send it once"))
                continue
            seen.add(slot.key)
            try:
                value = slot.parse(raw)
            except BadValue as exc:
                errors.append(FieldError(name, str(exc)))
                continue
            if slot.kind == _PLAIN:
                params[slot.target] = value
            elif slot.kind == _FILTER:
                filters.append(FilterSpec(field=slot.target, op=slot.op, value=value))
            else:
                listing[slot.kind] = (name, value)
        for key, name in self._required:
            if key not in seen:
                errors.append(FieldError(name, "required query parameter is missing"))
        if self._query_param is not None:
            query_spec = self._query_spec(listing, filters, errors)
            if query_spec is not None:
                params[self._query_param] = query_spec
        if errors:
            raise ValidationError(errors=errors)
        return params

    def _query_spec(
        self,
        listing: dict[int, tuple[str, Any]],
        filters: list[FilterSpec],
        errors: list[FieldError],
    ) -> QuerySpec | None:
        cursor = listing.get(_CURSOR)
        pagination = listing.get(_PAGINATION)
        page = listing.get(_PAGE)
        if cursor is not None:
            mode = PaginationMode.CURSOR
            if pagination is not None and pagination[1] is not PaginationMode.CURSOR:
                errors.append(FieldError(pagination[0], "must be cursor when a cursor is given"))
        elif pagination is not None:
            mode = pagination[1]
        else:
            mode = self.spec.pagination_mode
        if page is not None and mode is PaginationMode.CURSOR:
            errors.append(
                FieldError(page[0], "applies to offset pagination only; follow next_cursor instead")
            )
        if errors:
            return None
        limit = listing.get(_LIMIT)
        sort = listing.get(_SORT)
        return QuerySpec(
            filters=FilterGroup(filters=tuple(filters), op="AND") if filters else None,
            sort=sort[1] if sort is not None else (),
            pagination=mode,
            limit=limit[1] if limit is not None else self.settings.default_limit,
            page=page[1] if page is not None else 1,
            cursor=cursor[1] if cursor is not None else None,
        )

    def _unknown(self, name: str) -> str:
        field, sep, op = name.rpartition("__")
        if sep and field:
            known = self._filter_fields.get(field)
            if known is not None:
                _published, kind, ops = known
                allowed = ", ".join(o.value for o in ops) or "none"
                if op in _ALL_OPS:
                    return f"{op} does not apply to {field} ({kind}); its operators: {allowed}"
                return f"unknown operator {op!r}; {field} takes: {allowed}"
            if op in _ALL_OPS and self._filter_fields:
                fields = ", ".join(sorted({v[0] for v in self._filter_fields.values()}))
                return f"unknown field {field!r}; filter on one of: {fields}"
        if name in self._filter_fields:
            return f"unknown query parameter; to filter, send {name}__eq=... (or another operator)"
        close = difflib.get_close_matches(name, self._names, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        return f"unknown query parameter{hint}"


def _pairs(query: Query) -> Iterable[tuple[str, str]]:
    multi = getattr(query, "multi_items", None)
    if callable(multi):
        items: Iterable[tuple[str, str]] = multi()
        return items
    if isinstance(query, Mapping):
        pairs: list[tuple[str, str]] = []
        for name, value in query.items():
            if isinstance(value, str):
                pairs.append((name, value))
            else:
                pairs.extend((name, item) for item in value)
        return pairs
    return query


_BINDERS: dict[tuple[int, ListSettings], RequestBinder] = {}
_MAX_CACHED = 4096


def request_binder(spec: RouteSpec, settings: ListSettings) -> RequestBinder:
    """The (cached) :class:`RequestBinder` of ``spec``; runtimes call it once per route at start-up.

    Raises:
        CompilationError: a plain parameter's name collides with a list parameter or filter.
    """
    key = (id(spec), settings)
    binder = _BINDERS.get(key)
    if binder is None or binder.spec is not spec:
        if len(_BINDERS) >= _MAX_CACHED:
            _BINDERS.clear()
        binder = _BINDERS[key] = RequestBinder(spec, settings)
    return binder


def bind_request(
    spec: RouteSpec,
    path_params: Mapping[str, str],
    query: Query,
    *,
    settings: ListSettings,
) -> dict[str, Any]:
    """Bind one request to the ``params`` of ``Executor.run(spec.plan, params=...)``.

    Path and plain query parameters are converted by their declared type; a list route
    also gets a :class:`QuerySpec` (under the plan's query parameter) from ``limit``,
    ``page``, ``cursor``, ``pagination``, ``sort`` and ``field__op`` filters.

    Args:
        spec: The route.
        path_params: The ``{name}`` segments of the matched path, as strings.
        query: The query string as pairs, or a mapping (a multi-dict's ``multi_items()``
            or a mapping of lists keeps repeated names).
        settings: Limits and the spelling of parameter names.

    Raises:
        ValidationError: listing every problem at once (unknown or repeated parameters,
            unparsable values, unknown fields or operators, a limit over the cap), each
            ``FieldError.field`` naming the parameter as sent.
    """
    return request_binder(spec, settings).bind(path_params, query)
