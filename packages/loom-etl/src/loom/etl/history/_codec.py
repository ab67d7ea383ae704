"""Typed values as text: high-water marks and params in the history and in commit metadata."""

from __future__ import annotations

import datetime as dt
import decimal
import json
from collections.abc import Mapping
from typing import Any

import msgspec

__all__ = [
    "decode_marks",
    "decode_value",
    "encode_marks",
    "encode_value",
    "from_iso",
    "to_iso",
]

_TYPES: tuple[tuple[str, type], ...] = (
    ("bool", bool),
    ("int", int),
    ("float", float),
    ("decimal", decimal.Decimal),
    ("datetime", dt.datetime),
    ("date", dt.date),
    ("time", dt.time),
    ("str", str),
)
_BY_TAG = dict(_TYPES)


def encode_value(value: Any) -> tuple[str, str]:
    """``(json_text, type_tag)`` for a cursor value.

    Raises:
        TypeError: the value is not a bool, number, decimal, date/time or string.
    """
    for tag, kind in _TYPES:
        if isinstance(value, kind):
            return msgspec.json.encode(value).decode(), tag
    raise TypeError(
        f"a cursor value of type {type(value).__name__} cannot be kept as a high-water mark "
        "(use an int, float, decimal, date, datetime, time or string column)"
    )


def decode_value(text: str, tag: str) -> Any:
    """The value :func:`encode_value` encoded."""
    return msgspec.json.decode(text.encode(), type=_BY_TAG[tag])


def encode_marks(marks: Mapping[str, tuple[str, Any]]) -> str:
    """``{source: (cursor, value)}`` as one JSON text, for a commit's metadata."""
    data = {}
    for source, (cursor, value) in marks.items():
        text, tag = encode_value(value)
        data[source] = {"cursor": cursor, "value": text, "type": tag}
    return json.dumps(data, sort_keys=True)


def decode_marks(text: str) -> dict[str, tuple[str, Any]]:
    """The marks :func:`encode_marks` encoded."""
    data = json.loads(text)
    return {
        source: (entry["cursor"], decode_value(entry["value"], entry["type"]))
        for source, entry in data.items()
    }


def to_iso(moment: dt.datetime | None) -> str | None:
    """An aware datetime as UTC ISO text."""
    return None if moment is None else moment.astimezone(dt.UTC).isoformat()


def from_iso(text: str | None) -> dt.datetime | None:
    """The datetime :func:`to_iso` wrote."""
    return None if text is None else dt.datetime.fromisoformat(text)
