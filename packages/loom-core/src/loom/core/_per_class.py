"""``per_class``: cache a function of a class, typed (functools.cache wants Hashable)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

__all__ = ["per_class"]

R = TypeVar("R")


def per_class(func: Callable[[type[Any]], R]) -> Callable[[type[Any]], R]:
    """Compute ``func(cls)`` once per class; later calls return the same object."""
    results: dict[type[Any], R] = {}

    @wraps(func)
    def cached(cls: type[Any]) -> R:
        try:
            return results[cls]
        except KeyError:
            result = results[cls] = func(cls)
            return result

    cached.cache_clear = results.clear  # type: ignore[attr-defined]
    return cached
