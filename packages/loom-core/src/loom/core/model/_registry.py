"""Every model class defined so far, by name, for string relation targets."""

from __future__ import annotations

from typing import Any

__all__ = ["find_model", "register_model"]

_models: dict[str, list[type[Any]]] = {}


def register_model(cls: type[Any]) -> None:
    """Remember ``cls`` under its class name (the base classes themselves are skipped)."""
    if cls.__module__ == "loom.core.model._base":
        return
    _models.setdefault(cls.__name__, []).append(cls)


def find_model(name: str) -> type[Any] | None:
    """Return the model called ``name``; ``None`` when there is none or several."""
    found = _models.get(name, [])
    return found[-1] if len(found) == 1 else None
