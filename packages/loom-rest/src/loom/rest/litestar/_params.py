"""Path parameters for Litestar ASGI route handlers served over HTTP.

Litestar 2 files the path-parameter definitions of an ASGI route under the key
``"asgi"`` of its routing-trie node, but looks them up under the request's method when
the request is HTTP, so an ``{id}`` in an ASGI handler's path fails every HTTP request
with a ``KeyError``. :func:`share_path_params` files them under each HTTP method too,
once at start-up; Litestar then parses them into ``scope["path_params"]`` as usual.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from litestar import Litestar

__all__ = ["share_path_params"]


def share_path_params(app: Litestar, methods: Iterable[str]) -> None:
    """Make the path parameters of ``app``'s ASGI routes visible to HTTP ``methods``.

    Raises:
        RuntimeError: Litestar's router is not shaped as this shim expects (a Litestar
            upgrade changed it): failing at start-up beats failing every request.
    """
    wanted = tuple(methods)
    try:
        stack: list[Any] = [app.asgi_router.root_route_map_node]
        while stack:
            node = stack.pop()
            if node.is_asgi and "asgi" in node.path_parameters:
                definitions = node.path_parameters["asgi"]
                for method in wanted:
                    node.path_parameters.setdefault(method, definitions)
            stack.extend(node.children.values())
    except AttributeError as exc:  # pragma: no cover - only on an incompatible Litestar
        raise RuntimeError(f"unsupported Litestar router layout: {exc}") from exc
