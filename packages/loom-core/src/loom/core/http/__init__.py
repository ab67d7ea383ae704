"""Framework-neutral HTTP pieces every REST runtime shares, so they all answer alike.

- :func:`bind_request` turns a request's path and query string into the ``params`` of
  ``Executor.run`` (list routes get a ``QuerySpec`` from ``limit``, ``page``, ``cursor``,
  ``pagination``, ``sort`` and ``field__op`` filters), or raises one ``ValidationError``
  listing every problem.
- :func:`problem_details` maps any exception to an RFC 9457 body.
- :func:`generate_openapi` builds the OpenAPI 3.1 document of the routes.

Example:
    >>> from loom.core.http import ListSettings, bind_request  # doctest: +SKIP
    >>> params = bind_request(spec, {"id": "7"}, [("profile", "detail")],
    ...                       settings=ListSettings())  # doctest: +SKIP
"""

from loom.core.http._case import to_camel, to_snake
from loom.core.http._openapi import OPENAPI_VERSION, generate_openapi
from loom.core.http._params import (
    LIST_PARAMS,
    FilterParam,
    PlainParam,
    Query,
    RequestBinder,
    bind_request,
    request_binder,
)
from loom.core.http._problem import (
    PROBLEM_CONTENT_TYPE,
    PROBLEM_TYPE_BASE,
    ProblemDetails,
    ProblemFieldError,
    new_trace_id,
    problem_details,
    problem_title,
)
from loom.core.http._settings import MAX_PAGE, ListSettings

__all__ = [
    "LIST_PARAMS",
    "MAX_PAGE",
    "OPENAPI_VERSION",
    "PROBLEM_CONTENT_TYPE",
    "PROBLEM_TYPE_BASE",
    "FilterParam",
    "ListSettings",
    "PlainParam",
    "ProblemDetails",
    "ProblemFieldError",
    "Query",
    "RequestBinder",
    "bind_request",
    "generate_openapi",
    "new_trace_id",
    "problem_details",
    "problem_title",
    "request_binder",
    "to_camel",
    "to_snake",
]
