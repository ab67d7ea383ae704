"""loom-core: declarations, contracts, the use-case engine, config, logging and the CLI."""

from loom.core.__about__ import __version__

__all__ = ["__version__"]
