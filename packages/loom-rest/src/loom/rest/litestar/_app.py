"""The Litestar adapter: each endpoint becomes one Litestar route handler."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from typing import Any

from litestar import Litestar, Request, Response, route
from litestar.enums import HttpMethod
from litestar.exceptions import HTTPException, MethodNotAllowedException, NotFoundException
from litestar.handlers import HTTPRouteHandler

from loom.core.bootstrap import Runtime
from loom.core.errors import (
    LoomError,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    ValidationError,
)
from loom.rest._app import RestApp, build_rest_app
from loom.rest._asgi import LoomFront
from loom.rest._endpoint import Endpoint, HttpResponse, problem_response, query_pairs
from loom.rest._metrics import CONTENT_TYPE_LATEST

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


def _route_handler(endpoint: Endpoint) -> HTTPRouteHandler:
    path = _SEGMENT.sub(r"{\1:str}", endpoint.path)

    async def handler(request: Request[Any, Any, Any]) -> Response[bytes]:
        async def body() -> bytes:
            try:
                return await request.body()
            except HTTPException as exc:
                if exc.status_code == 413:
                    raise PayloadTooLarge("the request body is too large") from None
                raise

        client = request.client.host if request.client else None
        answer = await endpoint.handle(
            request.path_params,
            query_pairs(request.scope["query_string"]),
            request.headers,
            body,
            client=client,
        )
        return _response(answer)

    handler.__name__ = endpoint.spec.operation_id
    return route(
        path=path,
        http_method=[HttpMethod(endpoint.method)],
        # The endpoint's Response carries the real status; this only satisfies Litestar's
        # check that a route declared 204 returns no body.
        status_code=200,
        name=f"{endpoint.method} {endpoint.path}",
        include_in_schema=False,
    )(handler)


def _static(path: str, content: bytes, media_type: str) -> HTTPRouteHandler:
    answer = HttpResponse(200, content, media_type)

    async def serve() -> Response[bytes]:
        return _response(answer)

    return route(path=path, http_method=["GET"], include_in_schema=False, name=f"GET {path}")(serve)


def _metrics_handler(rest: RestApp, path: str) -> HTTPRouteHandler:
    metrics = rest.metrics
    assert metrics is not None

    async def serve() -> Response[bytes]:
        return _response(HttpResponse(200, metrics.render(), CONTENT_TYPE_LATEST))

    return route(path=path, http_method=["GET"], include_in_schema=False, name="metrics")(serve)


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
    handlers: list[HTTPRouteHandler] = [_route_handler(e) for e in rest.endpoints]
    handlers.append(_static(settings.openapi_url, rest.openapi, "application/json"))
    if rest.docs is not None and settings.docs_url:
        handlers.append(_static(settings.docs_url, rest.docs, "text/html; charset=utf-8"))
    if rest.metrics_path is not None:
        handlers.append(_metrics_handler(rest, rest.metrics_path))
    app = Litestar(
        route_handlers=handlers,
        on_startup=[rest.startup],
        on_shutdown=[rest.shutdown],
        openapi_config=None,
        logging_config=None,
        debug=False,
        request_max_body_size=settings.max_body_size,
        exception_handlers={Exception: _error},
    )
    # Paths, HEAD, OPTIONS, 404/405 and CORS are decided before Litestar routes, by the
    # same front the Starlette adapter uses (Litestar's own CORS and OPTIONS answers differ).
    app.asgi_handler = LoomFront(app.asgi_handler, routes=rest.route_table(), cors=settings.cors)
    app.state.loom = rest
    return app
