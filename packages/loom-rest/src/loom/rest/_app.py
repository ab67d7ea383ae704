"""``RestApp``: what both adapters serve, built once from a runtime."""

from __future__ import annotations

import gc
import html
import os
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import msgspec

from loom.core.bootstrap import Runtime, load_runtime
from loom.core.config import RestSettings
from loom.core.errors import ConfigurationError
from loom.core.http import ListSettings, generate_openapi
from loom.rest._asgi import route_order
from loom.rest._endpoint import Endpoint, HttpResponse
from loom.rest._metrics import CONTENT_TYPE_LATEST, RestMetrics
from loom.rest._wire import AnswerApp, PathApp

__all__ = ["RestApp", "ServedPath", "build_rest_app"]


class ServedPath(NamedTuple):
    """One path an adapter routes, the methods it answers and the ASGI app answering them."""

    path: str
    name: str
    methods: tuple[str, ...]
    app: PathApp | AnswerApp


_DOCS = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<link rel="stylesheet" href="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui.css">
</head>
<body>
<div id="docs"></div>
<script src="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui-bundle.js"></script>
<script>SwaggerUIBundle({{url: "{openapi_url}", dom_id: "#docs"}});</script>
</body>
</html>
"""


def _list_settings(settings: RestSettings) -> ListSettings:
    try:
        return ListSettings(
            default_limit=settings.default_limit,
            max_limit=settings.max_limit,
            case=settings.case,
        )
    except ConfigurationError as exc:
        # Name the key by its full path, as every other config error does.
        key = exc.key or ""
        message = exc.message.removeprefix(f"{key}: ")
        raise ConfigurationError(message, key=f"app.rest.{key}" if key else "app.rest") from None


class RestApp:
    """The endpoints, documents and settings an adapter turns into an ASGI app."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        settings: RestSettings = runtime.config.app.rest
        self.settings = settings
        self.list_settings = _list_settings(settings)
        prometheus = runtime.config.observability.prometheus
        self.metrics = RestMetrics() if prometheus.enabled else None
        self.metrics_path = prometheus.path if prometheus.enabled else None
        executor = runtime.application.executor
        self.endpoints: tuple[Endpoint, ...] = tuple(
            Endpoint(
                spec,
                executor,
                settings=self.list_settings,
                camel=settings.case == "camel",
                auth=self._auth(spec.auth),
                metrics=self.metrics,
                access_log=settings.access_log,
            )
            for spec in runtime.routes
        )
        document = generate_openapi(
            runtime.routes,
            title=settings.title,
            version=settings.version,
            description=settings.description,
            settings=self.list_settings,
        )
        self.openapi = msgspec.json.encode(document)
        self.docs = (
            _DOCS.format(
                title=html.escape(settings.title),
                openapi_url=html.escape(settings.openapi_url, quote=True),
            ).encode()
            if settings.docs_url
            else None
        )
        self.served: tuple[ServedPath, ...] = self._served()
        """What the adapters route: each endpoint path (static segments first), then the
        OpenAPI document, the docs page and the metrics, when configured."""

    def _served(self) -> tuple[ServedPath, ...]:
        settings = self.settings
        by_path: dict[str, list[Endpoint]] = {}
        for endpoint in sorted(self.endpoints, key=lambda e: route_order(e.path)):
            by_path.setdefault(endpoint.path, []).append(endpoint)
        served = []
        for path, endpoints in by_path.items():
            app = PathApp(endpoints, max_body_size=settings.max_body_size)
            served.append(ServedPath(path, f"loom {path}", tuple(app.methods), app))
        documents = [("openapi", settings.openapi_url, self.openapi, "application/json")]
        if self.docs is not None and settings.docs_url:
            documents.append(("docs", settings.docs_url, self.docs, "text/html; charset=utf-8"))
        for name, path, body, media_type in documents:
            served.append(
                ServedPath(path, name, ("GET",), _fixed(HttpResponse(200, body, media_type)))
            )
        metrics = self.metrics
        if metrics is not None and self.metrics_path is not None:
            render = AnswerApp(lambda: HttpResponse(200, metrics.render(), CONTENT_TYPE_LATEST))
            served.append(ServedPath(self.metrics_path, "metrics", ("GET",), render))
        return tuple(served)

    def route_table(self) -> list[tuple[str, str]]:
        """Every ``(method, path)`` the app serves: endpoints, OpenAPI, docs, metrics."""
        return [(method, s.path) for s in self.served for method in s.methods]

    def _auth(self, hook: Any) -> Callable[..., Any] | None:
        if hook is None:
            return None
        if isinstance(hook, type):
            built: Callable[..., Any] = self.runtime.application.container.build(hook)
            return built
        return hook  # type: ignore[no-any-return]

    async def startup(self) -> None:
        """Open the store and start jobs (the ASGI lifespan's start).

        With ``app.rest.freeze_gc`` (the default), everything built up to here — modules,
        plans, routes, the pool — is then frozen out of the garbage collector's reach
        (:func:`gc.freeze`), so its full collections scan only what requests create.
        """
        await self.runtime.start()
        if self.settings.freeze_gc:
            gc.collect()
            gc.freeze()

    async def shutdown(self) -> None:
        """Stop jobs and close the store (the ASGI lifespan's end)."""
        try:
            await self.runtime.stop()
        finally:
            if self.settings.freeze_gc:
                gc.unfreeze()


def _fixed(answer: HttpResponse) -> AnswerApp:
    return AnswerApp(lambda: answer)


def build_rest_app(
    config_paths: Sequence[str | os.PathLike[str]],
    *,
    overrides: Sequence[str] = (),
    runtime: Runtime | None = None,
) -> RestApp:
    """Build the runtime from config files (or use ``runtime``) and its endpoints."""
    if runtime is None:
        runtime = load_runtime(*config_paths, overrides=overrides)
    return RestApp(runtime)
