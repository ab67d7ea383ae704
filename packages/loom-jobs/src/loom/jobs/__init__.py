"""loom-jobs: The runtime for loom-core's `Job` declarations."""

from loom.jobs.__about__ import __version__

__all__ = ["__version__"]
