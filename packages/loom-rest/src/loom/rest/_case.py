"""camelCase on the wire: renaming JSON keys of requests and responses together."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from loom.core.http import to_camel, to_snake

__all__ = ["camel_keys", "snake_keys"]


@lru_cache(maxsize=4096)
def _camel(name: str) -> str:
    return to_camel(name)


@lru_cache(maxsize=4096)
def _snake(name: str) -> str:
    return to_snake(name)


def camel_keys(data: Any) -> Any:
    """Rename every dict key of plain JSON data to camelCase."""
    if isinstance(data, dict):
        return {_camel(k) if isinstance(k, str) else k: camel_keys(v) for k, v in data.items()}
    if isinstance(data, list):
        return [camel_keys(v) for v in data]
    return data


def snake_keys(data: Any) -> Any:
    """Rename every dict key of plain JSON data to snake_case."""
    if isinstance(data, dict):
        return {_snake(k) if isinstance(k, str) else k: snake_keys(v) for k, v in data.items()}
    if isinstance(data, list):
        return [snake_keys(v) for v in data]
    return data
