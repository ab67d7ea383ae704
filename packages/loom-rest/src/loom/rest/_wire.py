"""The ASGI side of serving: read a request from ``scope``/``receive``, answer with ``send``.

Both adapters route with their framework, then hand the matched request to a
:class:`PathApp` (or an :class:`AnswerApp`), which reads what the endpoint needs straight
from the ASGI scope and writes the answer as two ASGI messages. No framework request or
response object is built, and every runtime sends the same bytes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, MutableMapping
from typing import Any

from loom.core.errors import MethodNotAllowed, PayloadTooLarge
from loom.rest._endpoint import Endpoint, HttpResponse, problem_response, query_pairs

__all__ = ["AnswerApp", "PathApp", "ScopeHeaders", "body_reader", "send_answer"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

_CONTENT_TYPE = b"content-type"
_CONTENT_LENGTH = b"content-length"
_NO_PARAMS: Mapping[str, str] = {}
_media_types: dict[str, bytes] = {}


class ScopeHeaders(Mapping[str, str]):
    """The headers of an ASGI scope as a read-only mapping, names case-insensitive.

    A name sent more than once maps to its first value. The mapping is built on the
    first lookup, so a request whose headers nobody reads costs nothing.
    """

    __slots__ = ("_items", "_raw")

    def __init__(self, raw: Iterable[tuple[bytes, bytes]]) -> None:
        self._raw = raw
        self._items: dict[str, str] | None = None

    def _built(self) -> dict[str, str]:
        items = self._items
        if items is None:
            items = {}
            for key, value in self._raw:
                name = bytes(key).decode("latin-1").lower()
                items.setdefault(name, bytes(value).decode("latin-1"))
            self._items = items
        return items

    def __getitem__(self, name: str) -> str:
        items = self._built()
        try:
            return items[name]
        except KeyError:
            return items[name.lower()]

    def __contains__(self, name: object) -> bool:
        items = self._built()
        return name in items or (isinstance(name, str) and name.lower() in items)

    def __iter__(self) -> Iterator[str]:
        return iter(self._built())

    def __len__(self) -> int:
        return len(self._built())


def body_reader(
    receive: Receive, headers: Mapping[str, str], limit: int
) -> Callable[[], Awaitable[bytes]]:
    """Read the request body from ``receive``: 413 over ``limit`` bytes, declared or sent."""

    async def body() -> bytes:
        declared = headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise PayloadTooLarge("the request body is too large")
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            kind = message["type"]
            if kind == "http.request":
                chunk: bytes = message.get("body", b"")
                if chunk:
                    size += len(chunk)
                    if size > limit:
                        raise PayloadTooLarge("the request body is too large")
                    chunks.append(chunk)
                if not message.get("more_body", False):
                    break
            elif kind == "http.disconnect":
                raise ConnectionError("the client disconnected before sending the whole body")
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    return body


def _media_type(media_type: str) -> bytes:
    encoded = _media_types.get(media_type)
    if encoded is None:
        encoded = _media_types[media_type] = media_type.encode("latin-1")
    return encoded


async def send_answer(send: Send, answer: HttpResponse, *, head: bool = False) -> None:
    """Send ``answer``: its headers, then ``content-type`` and ``content-length`` (none on 204)."""
    headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in answer.headers]
    if answer.status != 204:
        if answer.media_type:
            headers.append((_CONTENT_TYPE, _media_type(answer.media_type)))
        headers.append((_CONTENT_LENGTH, str(len(answer.body)).encode("latin-1")))
    await send({"type": "http.response.start", "status": answer.status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if head else answer.body})


def _client(scope: Scope) -> str | None:
    client = scope.get("client")
    return str(client[0]) if client else None


class PathApp:
    """The ASGI app of one routed path: the endpoint of the request's method answers it.

    Args:
        endpoints: The endpoints of the path, one per method.
        max_body_size: The largest request body accepted, in bytes (413 beyond).
    """

    __slots__ = ("_endpoints", "_limit")

    def __init__(self, endpoints: Iterable[Endpoint], *, max_body_size: int) -> None:
        self._endpoints = {e.method: e for e in endpoints}
        self._limit = max_body_size

    @property
    def methods(self) -> list[str]:
        """The methods served, in declaration order."""
        return list(self._endpoints)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one HTTP request the router matched to this path."""
        endpoint = self._endpoints.get(scope["method"])
        if endpoint is None:
            error = MethodNotAllowed(f"{scope['method']} is not allowed on {scope['path']}")
            await send_answer(send, problem_response(error))
            return
        headers = ScopeHeaders(scope["headers"])
        answer = await endpoint.handle(
            scope.get("path_params") or _NO_PARAMS,
            query_pairs(scope["query_string"]),
            headers,
            body_reader(receive, headers, self._limit) if endpoint.has_body else b"",
            client=_client(scope) if endpoint.needs_client else None,
        )
        await send_answer(send, answer)


class AnswerApp:
    """An ASGI app sending what ``make`` returns (a fixed document, the metrics)."""

    __slots__ = ("_make",)

    def __init__(self, make: Callable[[], HttpResponse]) -> None:
        self._make = make

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one HTTP request."""
        await send_answer(send, self._make())
