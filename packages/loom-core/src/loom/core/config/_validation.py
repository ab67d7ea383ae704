"""Turning msgspec validation errors into messages that name the full key and the fix."""

from __future__ import annotations

import re
import types
import typing
from typing import Any, Union, get_args, get_origin

import msgspec

__all__ = ["describe_validation_error"]

_AT = re.compile(r"^(?P<reason>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.S)
_UNKNOWN = re.compile(r"^Object contains unknown field `(?P<field>[^`]+)`$")
_MISSING = re.compile(r"^Object missing required field `(?P<field>[^`]+)`$")


def describe_validation_error(
    section: str, settings_type: type[msgspec.Struct], error: msgspec.ValidationError
) -> tuple[str, str]:
    """Return ``(full.key.path, reason with the fix)`` for a section's validation error."""
    match = _AT.match(str(error))
    assert match is not None  # the pattern accepts any text
    reason = match["reason"]
    parts = [section, *_split_path(match["path"] or "")]
    unknown = _UNKNOWN.match(reason)
    if unknown:
        expected = _fields_at(settings_type, parts[1:])
        parts.append(unknown["field"])
        allowed = f"; expected one of: {', '.join(expected)}" if expected else ""
        return ".".join(parts), f"unknown key{allowed}"
    missing = _MISSING.match(reason)
    if missing:
        parts.append(missing["field"])
        return ".".join(parts), "required key is missing; add it"
    return ".".join(parts), reason[0].lower() + reason[1:] if reason else "invalid value"


def _split_path(path: str) -> list[str]:
    # msgspec renders paths like `.app.rest[0].name`
    return [p for p in re.split(r"\.|\[(\d+)\]", path) if p]


def _fields_at(settings_type: Any, parts: list[str]) -> list[str]:
    current: Any = settings_type
    for part in parts:
        current = _struct_of(current)
        if current is None:
            return []
        hints = typing.get_type_hints(current)
        if part.isdigit():
            continue
        current = hints.get(part)
    current = _struct_of(current)
    if current is None:
        return []
    return sorted(f.name for f in msgspec.structs.fields(current))


def _struct_of(tp: Any) -> Any:
    if isinstance(tp, type) and issubclass(tp, msgspec.Struct):
        return tp
    origin = get_origin(tp)
    if origin in (Union, types.UnionType) or origin in (list, tuple, dict):
        for arg in get_args(tp):
            found = _struct_of(arg)
            if found is not None:
                return found
    return None
