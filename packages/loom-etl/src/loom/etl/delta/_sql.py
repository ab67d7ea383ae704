"""``StepSQL`` on Polars: params rendered as typed SQL literals, run by ``pl.SQLContext``.

Binding never pastes a value's text into the query. Each value becomes a literal of its
own type: strings are quoted with ``'`` and embedded quotes doubled (``O'Brien`` →
``'O''Brien'``; Polars SQL treats backslashes literally), integers as digits, floats as
``CAST(<repr> AS DOUBLE)``, decimals as ``CAST('<text>' AS DECIMAL(38, s))``, dates as
``DATE 'YYYY-MM-DD'``, datetimes as ``CAST('…' AS TIMESTAMP)`` (aware ones converted to
UTC, ``TIMESTAMPTZ``), booleans as ``TRUE``/``FALSE``, ``None`` as ``NULL``, and a list,
tuple or set as ``(a, b, …)`` for ``IN :values``.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
from collections.abc import Mapping
from typing import Any

import polars as pl

from loom.etl.backend._protocol import BoundSql
from loom.etl.delta._exprs import plain_value
from loom.etl.dsl._expr import Lit

__all__ = ["render_sql", "run_sql", "sql_literal"]


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def sql_literal(value: Any) -> str:
    """The Polars SQL literal of ``value``.

    Raises:
        TypeError: the value has no safe literal form.
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
        return f"CAST({value!r} AS DOUBLE)"
    if isinstance(value, decimal.Decimal):
        if not value.is_finite():
            raise TypeError(f"{value!r} has no SQL literal")
        exponent = value.as_tuple().exponent
        scale = -exponent if isinstance(exponent, int) and exponent < 0 else 0
        return f"CAST({_quote(str(value))} AS DECIMAL(38, {scale}))"
    if isinstance(value, str):
        if "\x00" in value:
            raise TypeError("strings with NUL characters have no SQL literal")
        return _quote(value)
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            utc = value.astimezone(dt.UTC).replace(tzinfo=None)
            return f"CAST({_quote(utc.isoformat(sep=' ') + '+00:00')} AS TIMESTAMPTZ)"
        return f"CAST({_quote(value.isoformat(sep=' '))} AS TIMESTAMP)"
    if isinstance(value, dt.date):
        return f"DATE {_quote(value.isoformat())}"
    if isinstance(value, dt.time):
        return f"CAST({_quote(value.isoformat())} AS TIME)"
    if isinstance(value, list | tuple | set | frozenset):
        if not value:
            raise TypeError("an empty sequence has no SQL literal")
        items = sorted(value, key=repr) if isinstance(value, set | frozenset) else value
        return "(" + ", ".join(sql_literal(v) for v in items) + ")"
    raise TypeError(f"{type(value).__name__} values have no SQL literal")


def render_sql(query: BoundSql) -> str:
    """The query text with every bound value rendered as a typed literal."""
    return "".join(sql_literal(p.value) if isinstance(p, Lit) else p for p in query.parts)


def run_sql(text: str, frames: Mapping[str, pl.LazyFrame]) -> pl.LazyFrame:
    """Run ``text`` over ``frames``, each registered under its name."""
    return pl.SQLContext(frames=dict(frames)).execute(text, eager=False)
