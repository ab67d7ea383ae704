"""The ASGI plumbing every runtime shares: query parsing, scope headers, bodies, the front."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

import pytest
from tests.rest._support import CreateApp, lifespan

from loom.core.config import CorsSettings
from loom.rest._asgi import LoomFront
from loom.rest._endpoint import query_pairs
from loom.rest._wire import ScopeHeaders

Message = dict[str, Any]

# --- query strings ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"limit=5",
        b"limit=5&page=2&sort=-price,id",
        b"a=&b&=c&&d=1=2&",
        b"name__like=%25a%25&q=a+b",
        b"x=%E2%9C%93&y=%ff",
        b"caf\xe9=1",
        b"a=1;b=2",
        b"&&",
        b"k=v&k=w",
    ],
)
def test_query_pairs_parse_as_parse_qsl_does(raw: bytes) -> None:
    expected = parse_qsl(raw.decode("latin-1"), keep_blank_values=True) if raw else []

    assert query_pairs(raw) == expected


# --- headers ----------------------------------------------------------------------------


def test_scope_headers_are_case_insensitive_and_the_first_value_wins() -> None:
    headers = ScopeHeaders(
        [(b"content-type", b"application/json"), (b"x-tag", b"one"), (b"x-tag", b"two")]
    )

    assert headers["Content-Type"] == "application/json"
    assert headers.get("x-tag") == "one"
    assert headers.get("missing") is None
    assert "X-TAG" in headers
    assert "missing" not in headers
    assert sorted(headers) == ["content-type", "x-tag"]
    assert len(headers) == 2


# --- bodies arriving in several messages --------------------------------------------------


async def _call(app: Any, scope: dict[str, Any], messages: list[Message]) -> list[Message]:
    sent: list[Message] = []
    pending = list(messages)

    async def receive() -> Message:
        return pending.pop(0) if pending else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent


def _scope(method: str, path: str, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"testserver"), *headers],
        "client": ("127.0.0.1", 1234),
        "server": ("testserver", 80),
        "state": {},
    }


async def test_a_body_sent_in_several_messages_is_read_whole(
    create_app: CreateApp, config_path: Any
) -> None:
    body = json.dumps({"full_name": "Ada", "email": "ada@x.io"}).encode()
    parts = [body[:5], b"", body[5:20], body[20:]]
    messages = [{"type": "http.request", "body": p, "more_body": True} for p in parts]
    messages[-1]["more_body"] = False
    app = create_app(config_path)
    async with lifespan(app):
        sent = await _call(
            app, _scope("POST", "/users", [(b"content-type", b"application/json")]), messages
        )

    assert sent[0]["status"] == 201, sent
    assert json.loads(sent[1]["body"])["full_name"] == "Ada"


async def test_a_client_gone_before_its_body_ends_gets_a_500_problem(
    create_app: CreateApp, config_path: Any
) -> None:
    messages = [{"type": "http.request", "body": b'{"full_', "more_body": True}]
    app = create_app(config_path)
    async with lifespan(app):
        sent = await _call(
            app, _scope("POST", "/users", [(b"content-type", b"application/json")]), messages
        )

    assert sent[0]["status"] == 500
    assert json.loads(sent[1]["body"])["code"] == "internal_error"


# --- the front's route shapes --------------------------------------------------------------


async def _through_front(front: LoomFront, method: str, path: str) -> tuple[int, dict[str, str]]:
    sent = await _call(front, _scope(method, path, []), [])
    headers = {bytes(k).decode(): bytes(v).decode() for k, v in sent[0]["headers"]}
    return sent[0]["status"], headers


async def test_the_front_prefers_static_segments_whatever_the_declaration_order() -> None:
    async def router(scope: Any, receive: Callable[[], Awaitable[Message]], send: Any) -> None:
        await send({"type": "http.response.start", "status": 299, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    routes = [("PATCH", "/items/{id}"), ("GET", "/items/{id}/parts"), ("GET", "/items/latest")]
    front = LoomFront(router, routes=routes, cors=CorsSettings())

    assert await _through_front(front, "GET", "/items/latest") == (299, {})
    status, headers = await _through_front(front, "PATCH", "/items/latest")
    assert (status, headers["allow"]) == (405, "GET, HEAD, OPTIONS")
    assert (await _through_front(front, "PATCH", "/items/7"))[0] == 299
    status, headers = await _through_front(front, "GET", "/items/7")
    assert (status, headers["allow"]) == (405, "OPTIONS, PATCH")
    assert (await _through_front(front, "GET", "/items/7/parts/"))[0] == 299
    assert (await _through_front(front, "GET", "/elsewhere"))[0] == 299


# --- Litestar: path parameters of ASGI route handlers ----------------------------------------


async def test_litestar_asgi_handlers_get_their_path_params_once_shared() -> None:
    litestar = pytest.importorskip("litestar")
    from litestar.handlers import ASGIRouteHandler
    from litestar.types import Receive, Scope, Send

    from loom.rest.litestar._params import share_path_params

    seen: list[Any] = []

    async def handler(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope["path_params"])
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    route = ASGIRouteHandler(path="/things/{thing_id:str}", is_mount=False, copy_scope=False)
    app = litestar.Litestar(route_handlers=[route(handler)])
    share_path_params(app, ["GET", "DELETE"])

    sent = await _call(app, _scope("DELETE", "/things/t-1", []), [])

    assert sent[0]["status"] == 204
    assert seen == [{"thing_id": "t-1"}]
