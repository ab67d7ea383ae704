"""The backend-neutral column type names a source may declare with ``.types(...)``."""

from __future__ import annotations

import re

__all__ = ["DTYPE_NAMES", "dtype_problem", "parse_decimal"]

DTYPE_NAMES: tuple[str, ...] = (
    "bool",
    "date",
    "datetime",
    "decimal(p,s)",
    "float32",
    "float64",
    "int8",
    "int16",
    "int32",
    "int64",
    "string",
    "time",
    "timestamp",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
)
"""``datetime`` is naive (microseconds); ``timestamp`` is timezone-aware UTC."""

_DECIMAL = re.compile(r"^decimal\(\s*(\d+)\s*,\s*(\d+)\s*\)$")


def parse_decimal(name: str) -> tuple[int, int] | None:
    """Return ``(precision, scale)`` of ``"decimal(p,s)"``, else ``None``."""
    match = _DECIMAL.match(name.strip().lower())
    return (int(match[1]), int(match[2])) if match else None


def dtype_problem(name: object) -> str | None:
    """Return why ``name`` is not a known type name, or ``None`` when it is."""
    if not isinstance(name, str):
        return f"type must be a type name string, got {type(name).__name__}"
    normalized = name.strip().lower()
    if normalized in DTYPE_NAMES and normalized != "decimal(p,s)":
        return None
    decimal = parse_decimal(normalized)
    if decimal is not None:
        precision, scale = decimal
        if 0 < precision <= 38 and scale <= precision:
            return None
        return f"decimal({precision},{scale}) needs 0 < precision <= 38 and scale <= precision"
    return f"unknown type {name!r}; known types: {', '.join(DTYPE_NAMES)}"
