"""Loom predicates as Polars expressions and as Delta (DataFusion SQL) predicates."""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import math
from typing import Any

import polars as pl

from loom.etl.dsl._expr import And, Col, Compare, Expr, IsIn, IsNull, Lit, Not, Or, ParamRef

__all__ = ["delta_literal", "plain_value", "quote_identifier", "to_delta_sql", "to_polars"]


def plain_value(value: Any) -> Any:
    """An Enum's value; any other value unchanged."""
    return value.value if isinstance(value, enum.Enum) else value


def _items(values: tuple[Expr, ...] | ParamRef) -> list[Any]:
    if isinstance(values, ParamRef):
        raise TypeError(f"{values.dotted} was not bound before translation")
    items = []
    for item in values:
        if not isinstance(item, Lit):
            raise TypeError(f"isin() takes literal values, got {item!r}")
        items.append(plain_value(item.value))
    return items


def _is_null_literal(expr: Expr) -> bool:
    return isinstance(expr, Lit) and expr.value is None


def to_polars(expr: Expr) -> pl.Expr:
    """Translate a bound predicate (no ``params`` references left) into a Polars expression."""
    if isinstance(expr, Col):
        return pl.col(expr.name)
    if isinstance(expr, Lit):
        return pl.lit(plain_value(expr.value))
    if isinstance(expr, Compare):
        if expr.op in ("==", "!=") and _is_null_literal(expr.right):
            operand = to_polars(expr.left)
            return operand.is_null() if expr.op == "==" else operand.is_not_null()
        left, right = to_polars(expr.left), to_polars(expr.right)
        match expr.op:
            case "==":
                return left == right
            case "!=":
                return left != right
            case "<":
                return left < right
            case "<=":
                return left <= right
            case ">":
                return left > right
            case _:
                return left >= right
    if isinstance(expr, And):
        return to_polars(expr.left) & to_polars(expr.right)
    if isinstance(expr, Or):
        return to_polars(expr.left) | to_polars(expr.right)
    if isinstance(expr, Not):
        return ~to_polars(expr.operand)
    if isinstance(expr, IsNull):
        return to_polars(expr.operand).is_null()
    if isinstance(expr, IsIn):
        items = _items(expr.values)
        operand = to_polars(expr.operand)
        present = [v for v in items if v is not None]
        test = operand.is_in(present) if present else pl.lit(False)
        return test | operand.is_null() if len(present) < len(items) else test
    raise TypeError(f"cannot translate {expr!r} (a params reference must be bound first)")


def quote_identifier(name: str) -> str:
    """``"name"`` with embedded double quotes doubled."""
    return '"' + name.replace('"', '""') + '"'


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def delta_literal(value: Any) -> str:
    """A DataFusion SQL literal of ``value``'s own type.

    Raises:
        TypeError: the value has no safe literal form (NaN, infinity, other types).
    """
    value = plain_value(value)
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise TypeError(f"{value!r} has no SQL literal")
        return repr(value)
    if isinstance(value, decimal.Decimal):
        if not value.is_finite():
            raise TypeError(f"{value!r} has no SQL literal")
        return str(value)
    if isinstance(value, str):
        return _quote(value)
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            text = value.astimezone(dt.UTC).replace(tzinfo=None).isoformat() + "Z"
            return f"arrow_cast({_quote(text)}, 'Timestamp(Microsecond, Some(\"UTC\"))')"
        return f"arrow_cast({_quote(value.isoformat())}, 'Timestamp(Microsecond, None)')"
    if isinstance(value, dt.date):
        return f"DATE {_quote(value.isoformat())}"
    if isinstance(value, dt.time):
        return _quote(value.isoformat())
    raise TypeError(f"{type(value).__name__} values have no SQL literal")


def to_delta_sql(expr: Expr) -> str:
    """Translate a bound predicate into a Delta (DataFusion SQL) predicate string."""
    if isinstance(expr, Col):
        return quote_identifier(expr.name)
    if isinstance(expr, Lit):
        return delta_literal(expr.value)
    if isinstance(expr, Compare):
        left = to_delta_sql(expr.left)
        if expr.op in ("==", "!=") and _is_null_literal(expr.right):
            return f"({left} IS {'NOT ' if expr.op == '!=' else ''}NULL)"
        op = {"==": "=", "!=": "<>"}.get(expr.op, expr.op)
        return f"({left} {op} {to_delta_sql(expr.right)})"
    if isinstance(expr, And):
        return f"({to_delta_sql(expr.left)} AND {to_delta_sql(expr.right)})"
    if isinstance(expr, Or):
        return f"({to_delta_sql(expr.left)} OR {to_delta_sql(expr.right)})"
    if isinstance(expr, Not):
        return f"(NOT {to_delta_sql(expr.operand)})"
    if isinstance(expr, IsNull):
        return f"({to_delta_sql(expr.operand)} IS NULL)"
    if isinstance(expr, IsIn):
        items = _items(expr.values)
        operand = to_delta_sql(expr.operand)
        present = [delta_literal(v) for v in items if v is not None]
        test = f"{operand} IN ({', '.join(present)})" if present else "FALSE"
        if len(present) < len(items):
            return f"({test} OR {operand} IS NULL)"
        return f"({test})"
    raise TypeError(f"cannot translate {expr!r} (a params reference must be bound first)")
