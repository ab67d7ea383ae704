"""Query-string values parsed by their declared type; the filter operators each type takes."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import date, datetime, time
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any, Literal, get_args, get_origin
from uuid import UUID

from loom.core.repository.abc.query import FilterOp

__all__ = [
    "BadValue",
    "Parser",
    "filter_ops",
    "parse_bool",
    "parser_for",
    "scalar_kind",
    "value_schema",
]

Parser = Callable[[str], Any]
"""Turns one raw query-string value into a typed value, or raises :class:`BadValue`."""


class BadValue(Exception):
    """A raw value does not parse; the message says why, in words a client can show."""


_SCALARS: dict[Any, str] = {
    int: "int",
    float: "float",
    Decimal: "decimal",
    str: "str",
    datetime: "datetime",
    date: "date",
    time: "time",
    UUID: "uuid",
}


def scalar_kind(tp: Any) -> str | None:
    """Name the kind of scalar ``tp`` is, or ``None`` when it is not one loom parses."""
    if get_origin(tp) is Annotated:
        tp = get_args(tp)[0]
    if tp is bool:
        return "bool"
    if get_origin(tp) is Literal:
        return "literal"
    if isinstance(tp, type) and issubclass(tp, Enum):
        return "enum"
    return _SCALARS.get(tp)


_ORDERED = (FilterOp.EQ, FilterOp.NE, FilterOp.GT, FilterOp.GTE, FilterOp.LT, FilterOp.LTE)
_OPS: dict[str, tuple[FilterOp, ...]] = {
    "str": (*_ORDERED, FilterOp.IN, FilterOp.LIKE, FilterOp.ILIKE),
    "int": (*_ORDERED, FilterOp.IN),
    "float": (*_ORDERED, FilterOp.IN),
    "decimal": (*_ORDERED, FilterOp.IN),
    "datetime": (*_ORDERED, FilterOp.IN),
    "date": (*_ORDERED, FilterOp.IN),
    "time": (*_ORDERED, FilterOp.IN),
    "bool": (FilterOp.EQ, FilterOp.NE),
    "uuid": (FilterOp.EQ, FilterOp.NE, FilterOp.IN),
    "enum": (FilterOp.EQ, FilterOp.NE, FilterOp.IN),
    "literal": (FilterOp.EQ, FilterOp.NE, FilterOp.IN),
}


def filter_ops(tp: Any, nullable: bool) -> tuple[FilterOp, ...]:
    """The operators a column of type ``tp`` takes; ``is_null`` only when it is nullable."""
    kind = scalar_kind(tp)
    ops = _OPS.get(kind, ()) if kind is not None else ()
    return (*ops, FilterOp.IS_NULL) if nullable else ops


_INT = re.compile(r"[+-]?[0-9]{1,19}")
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_FLOAT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,3})?")
_INT64 = 1 << 63
_BOOLS = {"true": True, "false": False}
_TZ_HINT = "a timezone-aware ISO 8601 datetime, e.g. 2024-05-01T12:00:00Z"


def _int(raw: str) -> int:
    if _INT.fullmatch(raw):
        value = int(raw)
        if -_INT64 <= value < _INT64:
            return value
    raise BadValue("must be an integer (64-bit)")


def _float(raw: str) -> float:
    if _FLOAT.fullmatch(raw):
        value = float(raw)
        if math.isfinite(value):
            return value
    raise BadValue("must be a finite number")


def _decimal(raw: str) -> Decimal:
    if len(raw) <= 64 and _DECIMAL.fullmatch(raw):
        return Decimal(raw)
    raise BadValue("must be a decimal number, e.g. 12.50")


def parse_bool(raw: str) -> bool:
    """Parse ``true``/``false`` (any case)."""
    value = _BOOLS.get(raw.lower())
    if value is None:
        raise BadValue("must be true or false")
    return value


def _str(raw: str) -> str:
    if "\x00" in raw:
        raise BadValue("must not contain NUL characters")
    return raw


def _datetime(raw: str) -> datetime:
    hint = "; a '+' in a URL must be sent as %2B" if " " in raw else ""
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise BadValue(f"must be {_TZ_HINT}{hint}") from None
    if value.tzinfo is None:
        raise BadValue(f"must carry a timezone: {_TZ_HINT}{hint}")
    return value


def _date(raw: str) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise BadValue("must be an ISO 8601 date, e.g. 2024-05-01") from None


def _time(raw: str) -> time:
    try:
        return time.fromisoformat(raw)
    except ValueError:
        raise BadValue("must be an ISO 8601 time, e.g. 12:30:00") from None


def _uuid(raw: str) -> UUID:
    try:
        return UUID(raw)
    except ValueError:
        raise BadValue("must be a UUID") from None


def _choices(table: dict[str, Any]) -> Parser:
    allowed = ", ".join(table)

    def parse(raw: str) -> Any:
        try:
            return table[raw]
        except KeyError:
            raise BadValue(f"must be one of: {allowed}") from None

    return parse


_PARSERS: dict[str, Parser] = {
    "int": _int,
    "float": _float,
    "decimal": _decimal,
    "bool": parse_bool,
    "str": _str,
    "datetime": _datetime,
    "date": _date,
    "time": _time,
    "uuid": _uuid,
}


def parser_for(tp: Any) -> Parser | None:
    """The parser of values of type ``tp``, or ``None`` when ``tp`` is not a scalar."""
    kind = scalar_kind(tp)
    if kind is None:
        return None
    if get_origin(tp) is Annotated:
        tp = get_args(tp)[0]
    if kind == "enum":
        return _choices({str(member.value): member for member in tp})
    if kind == "literal":
        return _choices({str(arg): arg for arg in get_args(tp)})
    return _PARSERS[kind]


_SCHEMAS: dict[str, dict[str, Any]] = {
    "int": {"type": "integer"},
    "float": {"type": "number"},
    "decimal": {"type": "string", "format": "decimal"},
    "bool": {"type": "boolean"},
    "str": {"type": "string"},
    "datetime": {"type": "string", "format": "date-time"},
    "date": {"type": "string", "format": "date"},
    "time": {"type": "string", "format": "time"},
    "uuid": {"type": "string", "format": "uuid"},
}


def value_schema(tp: Any) -> dict[str, Any] | None:
    """The JSON schema of one value of type ``tp``, or ``None`` when it is not a scalar."""
    kind = scalar_kind(tp)
    if kind is None:
        return None
    if get_origin(tp) is Annotated:
        tp = get_args(tp)[0]
    if kind == "enum":
        return {"enum": [member.value for member in tp]}
    if kind == "literal":
        return {"enum": list(get_args(tp))}
    return dict(_SCHEMAS[kind])
