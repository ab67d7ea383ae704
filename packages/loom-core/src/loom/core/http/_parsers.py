"""Parsers of path, plain and list query parameters, built once per route."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from loom.core.errors import CompilationError, ValidationError
from loom.core.http._values import BadValue, Parser, parse_bool, parser_for
from loom.core.model import unwrap_optional
from loom.core.repository.abc.query import (
    FilterOp,
    PaginationMode,
    SortSpec,
    filter_value_problem,
)

__all__ = [
    "cursor_parser",
    "filter_parser",
    "pagination_parser",
    "param_parser",
    "ranged_int_parser",
    "sort_parser",
]


def param_parser(annotation: Any, convert: Callable[[Any], Any]) -> Parser:
    inner, _nullable = unwrap_optional(annotation)
    parse = parser_for(inner)
    if parse is not None:
        return parse

    def via_convert(raw: str) -> Any:
        try:
            return convert(raw)
        except ValidationError as exc:
            raise BadValue("; ".join(e.message for e in exc.errors) or exc.message) from None

    return via_convert


def filter_parser(op: FilterOp, python_type: Any) -> Parser:
    if op is FilterOp.IS_NULL:
        return parse_bool
    parse = parser_for(python_type)
    if parse is None:  # filter_ops offers only is_null on a non-scalar column
        raise CompilationError(f"{op.value} cannot filter a column of type {python_type!r}")
    if op is FilterOp.IN:
        return _list_parser(parse)
    if op in (FilterOp.LIKE, FilterOp.ILIKE):
        return _pattern_parser(op, parse)
    return parse


def _list_parser(parse: Parser) -> Parser:
    def parse_list(raw: str) -> tuple[Any, ...]:
        if not raw:
            raise BadValue("takes a comma-separated list of values")
        values: list[Any] = []
        for index, item in enumerate(raw.split(","), 1):
            try:
                values.append(parse(item))
            except BadValue as exc:
                raise BadValue(f"item {index} ({item!r}) {exc}") from None
        return tuple(values)

    return parse_list


def _pattern_parser(op: FilterOp, parse: Parser) -> Parser:
    def parse_pattern(raw: str) -> Any:
        value = parse(raw)
        problem = filter_value_problem(op, value, str)
        if problem is not None:
            raise BadValue(problem)
        return value

    return parse_pattern


def ranged_int_parser(low: int, high: int) -> Parser:
    message = f"must be an integer from {low} to {high}"

    def parse(raw: str) -> int:
        if raw.isascii() and raw.isdigit() and len(raw) <= 10:
            value = int(raw)
            if low <= value <= high:
                return value
        raise BadValue(message)

    return parse


def cursor_parser(raw: str) -> str:
    if not raw or len(raw) > 4096:
        raise BadValue("must be the next_cursor of a previous page")
    return raw


_MODES = {mode.value: mode for mode in PaginationMode}


def pagination_parser(raw: str) -> PaginationMode:
    mode = _MODES.get(raw)
    if mode is None:
        raise BadValue(f"must be one of: {', '.join(_MODES)}")
    return mode


def sort_parser(table: Mapping[str, str], sortable: Sequence[str]) -> Parser:
    allowed = ", ".join(sortable)

    def parse(raw: str) -> tuple[SortSpec, ...]:
        specs: list[SortSpec] = []
        used: set[str] = set()
        problems: list[str] = []
        for item in raw.split(","):
            item = item.strip()
            name = item[1:] if item.startswith("-") else item
            field = table.get(name)
            if field is None:
                problems.append(f"cannot sort on {name!r}; sortable fields: {allowed}")
            elif field in used:
                problems.append(f"{name!r} is named more than once")
            else:
                used.add(field)
                specs.append(SortSpec(field=field, direction="DESC" if item != name else "ASC"))
        if problems:
            raise BadValue("; ".join(problems))
        return tuple(specs)

    return parse
