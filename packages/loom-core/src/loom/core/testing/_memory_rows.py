"""Turning write payloads into checked rows, and rows into entities, for one model."""

from __future__ import annotations

import copy
import functools
import typing
from collections.abc import Callable, Mapping
from datetime import date, datetime, time
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

import msgspec

from loom.core.command import Command
from loom.core.errors import FieldError, ValidationError
from loom.core.model import ColumnSpec, ModelInfo

__all__ = [
    "detach",
    "payload_of",
    "server_value",
    "struct_defaults",
    "type_hints",
    "typed_row",
]

_IMMUTABLE = (str, int, float, bool, bytes, Decimal, datetime, date, time, UUID, Enum)


def detach(value: Any) -> Any:
    """Return ``value``, deep-copied unless it is an immutable scalar (no shared state)."""
    if value is None or isinstance(value, _IMMUTABLE):
        return value
    return copy.deepcopy(value)


_hints: dict[type[Any], dict[str, Any]] = {}
_defaults: dict[type[Any], dict[str, Callable[[], Any]]] = {}


def type_hints(model: type[Any]) -> dict[str, Any]:
    """The model's resolved annotations, ``Annotated`` metadata kept (cached)."""
    found = _hints.get(model)
    if found is None:
        found = _hints[model] = typing.get_type_hints(model, include_extras=True)
    return found


def struct_defaults(model: type[Any]) -> dict[str, Callable[[], Any]]:
    """Factories for the client-side defaults of the model's fields (cached)."""
    cached = _defaults.get(model)
    if cached is not None:
        return cached
    found: dict[str, Callable[[], Any]] = {}
    for field in msgspec.structs.fields(model):
        if field.default_factory is not msgspec.NODEFAULT:
            found[field.name] = field.default_factory
        elif field.default is not msgspec.NODEFAULT and field.default is not msgspec.UNSET:
            default = field.default
            found[field.name] = functools.partial(detach, default)
    _defaults[model] = found
    return found


def server_value(expression: str, column: ColumnSpec, now: datetime) -> Any:
    """Evaluate a ``server_default``/``server_onupdate`` the way the database would.

    ``"now"`` is the current UTC time (its date for a ``date`` column); a quoted literal
    is a string; anything else is parsed as JSON of the column's type, or kept as text.
    """
    if expression.lower() in ("now", "now()", "current_timestamp"):
        return now.date() if column.python_type is date else now
    if len(expression) >= 2 and expression[0] == expression[-1] == "'":
        return expression[1:-1].replace("''", "'")
    try:
        return msgspec.json.decode(expression.encode("utf-8"), type=column.python_type)
    except (msgspec.DecodeError, TypeError):
        return expression


def payload_of(data: Any, info: ModelInfo) -> dict[str, Any]:
    """The columns a write sets: a command's given fields, a struct's or mapping's items.

    ``UNSET`` values are left out; a loaded entity's relations and projections are ignored.

    Raises:
        ValidationError: a key is not a column of the model.
        TypeError: ``data`` is neither a struct nor a mapping.
    """
    if isinstance(data, Command):
        values = data.__dict__
    elif isinstance(data, msgspec.Struct):
        values = {name: getattr(data, name) for name in data.__struct_fields__}
        if isinstance(data, info.model):
            for name in (*info.relations, *info.projections):
                values.pop(name, None)
    elif isinstance(data, Mapping):
        values = dict(data)
    else:
        raise TypeError(
            f"{info.model.__qualname__} repository: write data must be a struct or a mapping, "
            f"not {type(data).__name__}"
        )
    values = {k: v for k, v in values.items() if v is not msgspec.UNSET}
    unknown = [k for k in values if k not in info.columns]
    if unknown:
        raise ValidationError(
            errors=[
                FieldError(str(k), f"unknown field of {info.model.__qualname__}") for k in unknown
            ]
        )
    return values


def _message(exc: msgspec.ValidationError) -> str:
    text = str(exc)
    return text.removesuffix(" - at `$`")


def typed_row(info: ModelInfo, row: Mapping[str, Any], errors: list[FieldError]) -> dict[str, Any]:
    """Check and convert every column value of ``row``; problems go to ``errors``."""
    hints = type_hints(info.model)
    out: dict[str, Any] = {}
    for name, column in info.columns.items():
        value = row.get(name)
        if value is None:
            if not column.nullable:
                errors.append(FieldError(name, "must not be null"))
            out[name] = None
            continue
        try:
            value = msgspec.convert(value, hints[name])
        except msgspec.ValidationError as exc:
            errors.append(FieldError(name, _message(exc)))
            continue
        if isinstance(value, datetime) and value.tzinfo is None:
            errors.append(FieldError(name, "naive datetime; give a timezone-aware value"))
            continue
        length = column.info.length
        if length is not None and isinstance(value, str) and len(value) > length:
            errors.append(FieldError(name, f"must be at most {length} characters"))
        out[name] = detach(value)
    return out
