"""The ASGI front both adapters put before their router, so they answer alike.

Frameworks disagree on the edges of HTTP: trailing and doubled slashes, ``HEAD``,
``OPTIONS``, which route wins when a static segment and a ``{param}`` both match, and
CORS (status, body and headers of a preflight, which headers an actual response gets).
:class:`LoomFront` decides all of that once, from the app's route table and
``app.rest.cors``, before the framework routes the request:

- ``/users/`` and ``/users//1`` are ``/users`` and ``/users/1`` (no redirect);
- a method a path's routes do not serve → 405 problem with ``Allow``; static segments win
  over ``{param}`` ones, segment by segment (paths no route serves go on to the framework,
  whose 404 each adapter maps to the same problem);
- ``HEAD`` is ``GET`` without the body; ``OPTIONS`` → 204 with ``Allow``;
- CORS, when origins are configured: a preflight → 204 with the ``Access-Control-*``
  headers, or a 403 problem naming what is refused; an actual request from an allowed
  origin gets ``Access-Control-Allow-Origin``; responses carry ``Vary: Origin``.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any

from loom.core.config import CorsSettings
from loom.core.errors import Forbidden, MethodNotAllowed
from loom.rest._endpoint import HttpResponse, problem_response
from loom.rest._wire import send_answer

__all__ = ["LoomFront", "normalize_path", "route_order"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Any, Any, Any], Awaitable[None]]

_SEGMENT = re.compile(r"^\{[A-Za-z_][A-Za-z0-9_]*\}$")
_SLASHES = re.compile(r"/{2,}")
_SAFELISTED = frozenset({"accept", "accept-language", "content-language", "content-type"})
_PREFLIGHT_VARY = "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"


def normalize_path(path: str) -> str:
    """``/users/`` → ``/users``, ``/users//1`` → ``/users/1``; ``/`` stays."""
    if "//" in path:
        path = _SLASHES.sub("/", path)
    if len(path) > 1 and path.endswith("/"):
        path = path.rstrip("/") or "/"
    return path


def route_order(path: str) -> tuple[int, ...]:
    """A sort key putting static segments before ``{param}`` ones, segment by segment."""
    return tuple(1 if _SEGMENT.match(s) else 0 for s in path.strip("/").split("/"))


class _Shape:
    """The paths of one shape (``/users/{}``) and the methods they answer."""

    __slots__ = ("allow", "methods", "order", "pattern")

    def __init__(self, path: str) -> None:
        parts = path.strip("/").split("/")
        pattern = "/".join("[^/]+" if _SEGMENT.match(p) else re.escape(p) for p in parts)
        self.pattern = f"/{pattern}" if pattern else "/"
        self.order = route_order(path)
        self.methods: set[str] = set()
        self.allow = ""

    def seal(self) -> None:
        if "GET" in self.methods:
            self.methods.add("HEAD")
        self.methods.add("OPTIONS")
        self.allow = ", ".join(sorted(self.methods))


class _Cors:
    """``app.rest.cors`` compiled into the headers of preflights and actual responses."""

    def __init__(self, settings: CorsSettings) -> None:
        self.any_origin = "*" in settings.allow_origins
        self.origins = frozenset(settings.allow_origins)
        self.any_method = "*" in settings.allow_methods
        self.methods = frozenset(m.upper() for m in settings.allow_methods)
        self.any_header = "*" in settings.allow_headers
        self.headers = _SAFELISTED | {h.lower() for h in settings.allow_headers}
        self.credentials = settings.allow_credentials
        self.echo_origin = not self.any_origin or self.credentials
        self.vary = self.echo_origin
        self.preflight_headers: list[tuple[str, str]] = [
            ("access-control-allow-methods", ", ".join(settings.allow_methods)),
            ("access-control-max-age", str(settings.max_age)),
        ]
        if not self.any_header:
            self.preflight_headers.append(
                ("access-control-allow-headers", ", ".join(settings.allow_headers))
            )

    def allows(self, origin: str) -> bool:
        return self.any_origin or origin in self.origins

    def allow_origin(self, origin: str) -> list[tuple[str, str]]:
        headers = [("access-control-allow-origin", origin if self.echo_origin else "*")]
        if self.credentials:
            headers.append(("access-control-allow-credentials", "true"))
        return headers

    def preflight(self, origin: str, method: str, requested: str | None) -> HttpResponse:
        refused: list[str] = []
        if not self.allows(origin):
            refused.append(f"origin {origin}")
        if not self.any_method and method.upper() not in self.methods:
            refused.append(f"method {method}")
        names = [h.strip().lower() for h in (requested or "").split(",") if h.strip()]
        if not self.any_header:
            refused += [f"header {h}" for h in names if h not in self.headers]
        vary = (("vary", _PREFLIGHT_VARY),)
        if refused:
            answer = problem_response(Forbidden(f"CORS preflight refused: {', '.join(refused)}"))
            return answer._replace(headers=answer.headers + vary)
        headers = [*self.allow_origin(origin), *self.preflight_headers]
        if self.any_header and names:
            headers.append(("access-control-allow-headers", ", ".join(names)))
        return HttpResponse(204, b"", "", (*vary, *headers))


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


class LoomFront:
    """ASGI middleware deciding paths, HEAD, OPTIONS, 404/405 and CORS for every adapter.

    Args:
        app: The framework's ASGI app (its router).
        routes: Every ``(method, path)`` the app serves, ``{name}`` for path parameters.
        cors: ``app.rest.cors``; CORS is off when it lists no origin.
    """

    def __init__(
        self, app: ASGIApp, *, routes: Iterable[tuple[str, str]], cors: CorsSettings
    ) -> None:
        self.app = app
        shapes: dict[str, _Shape] = {}
        for method, path in routes:
            key = "/".join("{}" if _SEGMENT.match(p) else p for p in path.strip("/").split("/"))
            shapes.setdefault(key, _Shape(path)).methods.add(method.upper())
        for shape in shapes.values():
            shape.seal()
        self._shapes = sorted(shapes.values(), key=lambda s: s.order)
        # One alternation in priority order: the first shape that matches the whole path
        # wins, and its group number names it.
        alternatives = "|".join(f"({shape.pattern})" for shape in self._shapes)
        self._regex = re.compile(alternatives) if self._shapes else None
        self._cors = _Cors(cors) if cors.allow_origins else None

    def _match(self, path: str) -> _Shape | None:
        found = self._regex.fullmatch(path) if self._regex is not None else None
        return self._shapes[found.lastindex - 1] if found and found.lastindex else None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        """Serve one ASGI connection (typed loosely: each framework types ASGI its own way)."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if "//" in path or (path[-1:] == "/" and len(path) > 1):
            path = normalize_path(path)
            scope = {**scope, "path": path}
        method: str = scope["method"]
        cors = self._cors
        origin = _header(scope, b"origin") if cors is not None else None
        if cors is not None and origin is not None and method == "OPTIONS":
            requested = _header(scope, b"access-control-request-method")
            if requested is not None:
                headers = _header(scope, b"access-control-request-headers")
                await send_answer(send, cors.preflight(origin, requested, headers))
                return
        extra: list[tuple[str, str]] = []
        if cors is not None:
            if origin is not None and cors.allows(origin):
                extra += cors.allow_origin(origin)
            if cors.vary:
                extra.append(("vary", "Origin"))
        shape = self._match(path)
        head = method == "HEAD"
        if shape is not None and method == "OPTIONS":
            answer = HttpResponse(204, b"", "", (("allow", shape.allow),))
        elif shape is not None and method not in shape.methods:
            answer = problem_response(MethodNotAllowed(f"{method} is not allowed on {path}"))
            answer = answer._replace(headers=(*answer.headers, ("allow", shape.allow)))
        else:
            # A route of the app (or an unknown path: the framework answers the same 404
            # problem on every adapter, and routes added to the app later stay reachable).
            if head and shape is not None:
                scope = {**scope, "method": "GET"}
            if extra or head:
                send = _rewriting(send, extra, head=head)
            await self.app(scope, receive, send)
            return
        await send_answer(send, answer._replace(headers=(*answer.headers, *extra)), head=head)


def _rewriting(send: Send, extra: list[tuple[str, str]], *, head: bool) -> Send:
    """Wrap ``send``: add the CORS headers (merging ``Vary``); drop a HEAD response's body."""
    added = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in extra]
    replaced = {k for k, _ in added if k != b"vary"}

    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start" and added:
            headers: list[tuple[bytes, bytes]] = []
            vary: list[bytes] = []
            for key, value in message.get("headers", ()):
                name = bytes(key).lower()
                if name == b"vary":
                    vary.append(bytes(value))
                elif name not in replaced:
                    headers.append((bytes(key), bytes(value)))
            for key, value in added:
                if key == b"vary":
                    vary.append(value)
                else:
                    headers.append((key, value))
            if vary:
                headers.append((b"vary", b", ".join(dict.fromkeys(vary))))
            message = {**message, "headers": headers}
        elif head and message["type"] == "http.response.body":
            message = {**message, "body": b""}
        await send(message)

    return wrapped
