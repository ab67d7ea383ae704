"""Import optional dependencies with an error that says which extra to install."""

from __future__ import annotations

import importlib
from types import ModuleType

from loom.core.errors import MissingDependencyError

__all__ = ["import_extra"]


def import_extra(module: str, *, distribution: str, extra: str) -> ModuleType:
    """Import ``module``, or raise :class:`MissingDependencyError` naming the extra.

    Args:
        module: Top-level module of the optional dependency (``"litestar"``).
        distribution: The loom distribution offering the extra (``"loom-rest"``).
        extra: The extra that installs it (``"litestar"``).

    Raises:
        MissingDependencyError: ``module`` (or one of its own imports) is not installed.

    """
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        raise MissingDependencyError(module, distribution=distribution, extra=extra) from exc
