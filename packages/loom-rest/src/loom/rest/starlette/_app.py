"""The Starlette adapter: each endpoint becomes one Starlette ``Route``."""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from loom.core.bootstrap import Runtime
from loom.core.errors import LoomError, MethodNotAllowed, NotFound, PayloadTooLarge, ValidationError
from loom.rest._app import RestApp, build_rest_app
from loom.rest._asgi import LoomFront, route_order
from loom.rest._endpoint import Endpoint, HttpResponse, problem_response, query_pairs
from loom.rest._metrics import CONTENT_TYPE_LATEST

__all__ = ["create_app"]


def _response(answer: HttpResponse) -> Response:
    return Response(
        content=answer.body,
        status_code=answer.status,
        # Starlette would send a content-type with a 204; Litestar (rightly) does not.
        media_type=answer.media_type if answer.status != 204 else None,
        headers=dict(answer.headers) if answer.headers else None,
    )


def _body_reader(request: Request, limit: int) -> Callable[[], Awaitable[bytes]]:
    async def body() -> bytes:
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise PayloadTooLarge("the request body is too large")
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise PayloadTooLarge("the request body is too large")
            chunks.append(chunk)
        return b"".join(chunks)

    return body


def _route(endpoint: Endpoint, limit: int) -> Route:
    async def handle(request: Request) -> Response:
        client = request.client.host if request.client else None
        answer = await endpoint.handle(
            request.path_params,
            query_pairs(request.scope["query_string"]),
            request.headers,
            _body_reader(request, limit),
            client=client,
        )
        return _response(answer)

    return Route(endpoint.path, handle, methods=[endpoint.method], name=endpoint.spec.operation_id)


def _static(path: str, content: bytes, media_type: str) -> Route:
    async def serve(request: Request) -> Response:
        return Response(content=content, media_type=media_type)

    return Route(path, serve, methods=["GET"])


def _metrics_route(rest: RestApp, path: str) -> Route:
    metrics = rest.metrics
    assert metrics is not None

    async def serve(request: Request) -> Response:
        return Response(content=metrics.render(), media_type=CONTENT_TYPE_LATEST)

    return Route(path, serve, methods=["GET"])


async def _error(request: Request, exc: Exception) -> Response:
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
    return _response(problem_response(error))


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
    # Static segments first, segment by segment, as Litestar's router and LoomFront match.
    endpoints = sorted(rest.endpoints, key=lambda e: route_order(e.path))
    routes = [_route(e, settings.max_body_size) for e in endpoints]
    routes.append(_static(settings.openapi_url, rest.openapi, "application/json"))
    if rest.docs is not None and settings.docs_url:
        routes.append(_static(settings.docs_url, rest.docs, "text/html; charset=utf-8"))
    if rest.metrics_path is not None:
        routes.append(_metrics_route(rest, rest.metrics_path))

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
