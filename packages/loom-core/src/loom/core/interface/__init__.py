"""The framework-neutral interface model that every REST runtime serves.

``loom.rest.model`` and ``loom.rest.autocrud`` re-export it under the paths the seeds use.
"""

from loom.core.interface._model import (
    AUTO_ACTIONS,
    HttpMethod,
    RestInterface,
    RestRoute,
    build_auto_routes,
)
from loom.core.interface._routes import (
    PathParam,
    QueryParam,
    RouteSpec,
    compile_interfaces,
    join_path,
)
from loom.core.repository.abc.query import PaginationMode

__all__ = [
    "AUTO_ACTIONS",
    "HttpMethod",
    "PaginationMode",
    "PathParam",
    "QueryParam",
    "RestInterface",
    "RestRoute",
    "RouteSpec",
    "build_auto_routes",
    "compile_interfaces",
    "join_path",
]
