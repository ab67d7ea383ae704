"""The Polars + Delta Lake backend (extra ``delta``): lazy scans, Delta writes, file sinks.

Importing this package without the extra raises
:class:`~loom.core.errors.MissingDependencyError` naming ``loom-etl[delta]``.
"""

from loom.core.extras import import_extra

for _module in ("polars", "deltalake", "pyarrow"):
    import_extra(_module, distribution="loom-etl", extra="delta")

from loom.etl.delta._backend import PolarsDeltaBackend  # noqa: E402

__all__ = ["PolarsDeltaBackend"]
