"""The interface model under the path the seeds use: ``RestInterface``, ``RestRoute``."""

from loom.core.interface import RestInterface, RestRoute
from loom.core.repository.abc.query import PaginationMode

__all__ = ["PaginationMode", "RestInterface", "RestRoute"]
