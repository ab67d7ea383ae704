"""loom-etl: Declarative, compile-time-checked ETL pipelines."""

from loom.etl.__about__ import __version__

__all__ = ["__version__"]
