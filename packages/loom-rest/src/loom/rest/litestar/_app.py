"""The Litestar adapter: Litestar routes, each path's endpoints answer as one ASGI handler.

Litestar keeps its router, lifespan and exception handling; a matched request goes to a
:class:`~loom.rest._wire.PathApp` as an ASGI route handler, which reads the scope and
writes the response with ``send`` (no Litestar ``Request`` or ``Response`` per request).
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from typing import Any

from litestar import Litestar, Request, Response
from litestar.exceptions import HTTPException, MethodNotAllowedException, NotFoundException
from litestar.handlers import ASGIRouteHandler
from litestar.types import ASGIApp, Receive, Scope, Send

from loom.core.bootstrap import Runtime
from loom.core.errors import (
    LoomError,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    ValidationError,
)
from loom.rest._app import build_rest_app
from loom.rest._asgi import LoomFront
from loom.rest._endpoint import HttpResponse, problem_response
from loom.rest.litestar._params import share_path_params

__all__ = ["create_app"]

_SEGMENT = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def _response(answer: HttpResponse) -> Response[bytes]:
    headers = dict(answer.headers)
    if answer.body and "charset=" in answer.media_type:
        # Litestar appends "; charset=utf-8" to every text/* media type, even one that
        # already names its charset; a content-type header is sent as given.
        headers["content-type"] = answer.media_type
    return Response(
        content=answer.body,
        status_code=answer.status,
        media_type=answer.media_type,
        headers=headers or None,
    )


def _handler(path: str, name: str, app: Any) -> ASGIRouteHandler:
    """``app`` as a Litestar ASGI route handler of ``path`` (path params as strings)."""
    serve: ASGIApp = app

    async def handler(scope: Scope, receive: Receive, send: Send) -> None:
        await serve(scope, receive, send)

    handler.__name__ = name.replace(" ", "_")
    return ASGIRouteHandler(
        path=_SEGMENT.sub(r"{\1:str}", path), name=name, is_mount=False, copy_scope=False
    )(handler)


def _error(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    error: BaseException = exc
    if isinstance(exc, NotFoundException):
        error = NotFound(f"no route for {request.method} {request.url.path}")
    elif isinstance(exc, MethodNotAllowedException):
        error = MethodNotAllowed(f"{request.method} is not allowed on {request.url.path}")
    elif isinstance(exc, HTTPException) and exc.status_code == 413:
        error = PayloadTooLarge("the request body is too large")
    elif isinstance(exc, HTTPException) and 400 <= exc.status_code < 500:
        error = ValidationError(str(exc.detail))
    elif isinstance(exc, LoomError):
        error = exc
    return _response(problem_response(error))


def create_app(
    *config_paths: str | os.PathLike[str],
    overrides: Sequence[str] = (),
    runtime: Runtime | None = None,
) -> Litestar:
    """Build a Litestar ASGI app serving the application configured in ``config_paths``.

    Everything is compiled here: a declaration error stops start-up with the class and
    field named. The store opens and the job backend starts in the app's lifespan.

    Args:
        *config_paths: YAML config files, later ones winning.
        overrides: ``key=value`` overrides.
        runtime: An already built runtime (instead of config files).
    """
    rest = build_rest_app(config_paths, overrides=overrides, runtime=runtime)
    settings = rest.settings
    app = Litestar(
        route_handlers=[_handler(s.path, s.name, s.app) for s in rest.served],
        on_startup=[rest.startup],
        on_shutdown=[rest.shutdown],
        openapi_config=None,
        logging_config=None,
        debug=False,
        request_max_body_size=settings.max_body_size,
        exception_handlers={Exception: _error},
    )
    share_path_params(app, {e.method for e in rest.endpoints})
    # Paths, HEAD, OPTIONS, 404/405 and CORS are decided before Litestar routes, by the
    # same front the Starlette adapter uses (Litestar's own CORS and OPTIONS answers differ).
    app.asgi_handler = LoomFront(app.asgi_handler, routes=rest.route_table(), cors=settings.cors)
    app.state.loom = rest
    return app
