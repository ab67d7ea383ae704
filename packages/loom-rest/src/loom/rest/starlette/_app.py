"""The Starlette adapter: Starlette routes, each path's endpoints answer as one ASGI app.

A matched request goes to a :class:`~loom.rest._wire.PathApp` mounted as the ``Route``'s
ASGI app, which reads the scope and writes the response with ``send`` (no Starlette
``Request`` or ``Response`` per request).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator, Sequence
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.routing import Route

from loom.core.bootstrap import Runtime
from loom.core.errors import LoomError, MethodNotAllowed, NotFound, PayloadTooLarge, ValidationError
from loom.rest._app import build_rest_app
from loom.rest._asgi import LoomFront
from loom.rest._endpoint import problem_response
from loom.rest._wire import AnswerApp

__all__ = ["create_app"]


async def _error(request: Request, exc: Exception) -> AnswerApp:
    """The problem answer of ``exc`` (Starlette calls any ASGI app a handler returns)."""
    error: BaseException = exc
    if isinstance(exc, HTTPException):
        if exc.status_code == 404:
            error = NotFound(f"no route for {request.method} {request.url.path}")
        elif exc.status_code == 405:
            error = MethodNotAllowed(f"{request.method} is not allowed on {request.url.path}")
        elif exc.status_code == 413:
            error = PayloadTooLarge("the request body is too large")
        else:
            error = ValidationError(str(exc.detail))
    elif isinstance(exc, LoomError):
        error = exc
    answer = problem_response(error)
    return AnswerApp(lambda: answer)


def create_app(
    *config_paths: str | os.PathLike[str],
    overrides: Sequence[str] = (),
    runtime: Runtime | None = None,
) -> Starlette:
    """Build a Starlette ASGI app serving the application configured in ``config_paths``.

    Everything is compiled here: a declaration error stops start-up with the class and
    field named. The store opens and the job backend starts in the app's lifespan.

    Args:
        *config_paths: YAML config files, later ones winning.
        overrides: ``key=value`` overrides.
        runtime: An already built runtime (instead of config files).
    """
    rest = build_rest_app(config_paths, overrides=overrides, runtime=runtime)
    settings = rest.settings
    routes = [Route(s.path, s.app, methods=list(s.methods), name=s.name) for s in rest.served]

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await rest.startup()
        try:
            yield
        finally:
            await rest.shutdown()

    # Paths, HEAD, OPTIONS, 404/405 and CORS: the same front the Litestar adapter uses.
    middleware = [Middleware(LoomFront, routes=rest.route_table(), cors=settings.cors)]
    handlers: dict[Any, Any] = {HTTPException: _error, Exception: _error}
    app = Starlette(
        routes=routes, lifespan=lifespan, middleware=middleware, exception_handlers=handlers
    )
    app.state.loom = rest
    return app
