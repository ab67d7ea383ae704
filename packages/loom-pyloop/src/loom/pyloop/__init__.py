"""loom-pyloop: The fast loom runtime."""

from loom.pyloop.__about__ import __version__

__all__ = ["__version__"]
