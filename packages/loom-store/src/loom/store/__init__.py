"""loom-store: SQL persistence for loom models."""

from loom.store.__about__ import __version__

__all__ = ["__version__"]
