"""loom-rest: loom interfaces served as a documented REST API on Litestar or Starlette."""

from loom.rest.__about__ import __version__

__all__ = ["__version__"]
