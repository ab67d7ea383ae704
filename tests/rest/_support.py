"""Helpers of the REST conformance suite: runtimes, lifespan, real servers, normalizing."""

from __future__ import annotations

import asyncio
import json
import re
import socket
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
APP_MODULE = "tests.rest.app.interfaces"
TRACE_ID = re.compile(r"^[0-9a-f]{32}$")
PROBLEM_KEYS = {"type", "title", "status", "detail", "code", "trace_id"}
PROBLEM_TYPE = "https://loom.dev/problems/"
PROBLEM_JSON = "application/problem+json"
TIMESTAMP_KEYS = frozenset({"created_at", "updated_at", "createdAt", "updatedAt"})
CORS_ORIGIN = "https://shop.example"
MAX_BODY = 4096

CreateApp = Callable[..., Any]


@dataclass(frozen=True)
class RuntimeEntry:
    """A REST runtime under test: the module whose ``create_app`` builds an ASGI app.

    A third runtime joins the suite with one line in :data:`RUNTIMES`, e.g.
    ``"pyloop": RuntimeEntry("pyloop", "loom.pyloop.asgi")``: every parametrized test
    then runs on it too, and is skipped while its package (or extra) is not installed.
    """

    name: str
    module: str
    factory: str = "create_app"

    def load(self) -> CreateApp:
        """Import the runtime's ``create_app``, or skip the test when it is not installed."""
        module = pytest.importorskip(
            self.module, reason=f"the {self.name} runtime is not installed"
        )
        create: CreateApp = getattr(module, self.factory)
        return create


RUNTIMES: dict[str, RuntimeEntry] = {
    "litestar": RuntimeEntry("litestar", "loom.rest.litestar"),
    "starlette": RuntimeEntry("starlette", "loom.rest.starlette"),
}
"""Every runtime the conformance suite runs against, by name."""


def config_data(**rest: Any) -> dict[str, Any]:
    """The config of the conformance app; ``rest`` overrides keys of ``app.rest``."""
    return {
        "app": {
            "name": "conformance",
            "code_path": str(REPO_ROOT),
            "secret_key": "conformance-secret",
            "discovery": {"modules": {"include": [APP_MODULE]}},
            "rest": {
                "title": "Conformance API",
                "version": "1.2.3",
                "max_body_size": MAX_BODY,
                "access_log": False,
                "cors": {
                    "allow_origins": [CORS_ORIGIN],
                    "allow_headers": ["content-type", "authorization"],
                },
                **rest,
            },
        },
        "database": {"url": "memory://"},
        "observability": {"log": {"level": "WARNING"}, "prometheus": {"enabled": True}},
    }


def write_config(path: Path, data: Mapping[str, Any]) -> Path:
    """Write ``data`` as a YAML file (JSON is YAML) and return its path."""
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    return path


@asynccontextmanager
async def lifespan(app: Any) -> AsyncIterator[None]:
    """Run ``app``'s ASGI lifespan (startup on enter, shutdown on exit), as a server does.

    ``httpx.ASGITransport`` does not run the lifespan; this drives the app's own
    startup and shutdown through the ASGI protocol.
    """
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}, "state": {}}
    task = asyncio.create_task(app(scope, inbox.get, outbox.put))
    await inbox.put({"type": "lifespan.startup"})
    started = await asyncio.wait_for(outbox.get(), 10)
    assert started["type"] == "lifespan.startup.complete", started
    try:
        yield
    finally:
        await inbox.put({"type": "lifespan.shutdown"})
        stopped = await asyncio.wait_for(outbox.get(), 10)
        assert stopped["type"] == "lifespan.shutdown.complete", stopped
        await asyncio.wait_for(task, 10)


class LoomClient(httpx.AsyncClient):
    """An httpx client bound to one in-process app (``client.app``)."""

    app: Any
    runtime: str


@asynccontextmanager
async def in_process(app: Any, runtime: str) -> AsyncIterator[LoomClient]:
    """Start ``app``'s lifespan and yield an in-process client for it."""
    async with lifespan(app):
        transport = httpx.ASGITransport(app=app)
        async with LoomClient(transport=transport, base_url="http://testserver") as client:
            client.app = app
            client.runtime = runtime
            yield client


def free_port() -> int:
    """A TCP port on the loopback interface that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@asynccontextmanager
async def uvicorn_server(app: Any) -> AsyncIterator[str]:
    """Serve ``app`` with a real uvicorn server on a free loopback port; yield its base URL."""
    uvicorn = pytest.importorskip("uvicorn")
    config = uvicorn.Config(
        app, host="127.0.0.1", port=free_port(), lifespan="on", log_config=None, access_log=False
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        for _ in range(500):
            if server.started or task.done():
                break
            await asyncio.sleep(0.01)
        assert server.started, "uvicorn did not start"
        yield f"http://127.0.0.1:{config.port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)


def problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """Check ``response`` is an RFC 9457 problem of ``status``/``code``; return its body.

    The body's ``trace_id`` (32 hex digits, also in ``x-trace-id``) is checked and
    replaced by ``"<trace>"`` so callers compare the rest exactly.
    """
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"] == PROBLEM_JSON
    body: dict[str, Any] = response.json()
    assert PROBLEM_KEYS <= set(body) <= PROBLEM_KEYS | {"errors", "instance"}, body
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"] == PROBLEM_TYPE + code
    assert TRACE_ID.match(body["trace_id"]), body["trace_id"]
    assert response.headers["x-trace-id"] == body["trace_id"]
    return {**body, "trace_id": "<trace>"}


def errors_of(
    response: httpx.Response, status: int = 422, code: str = "validation_error"
) -> list[dict[str, str]]:
    """The ``errors`` list of a problem response (checked like :func:`problem`)."""
    errors: list[dict[str, str]] = problem(response, status, code)["errors"]
    return errors


def fields_of(
    response: httpx.Response, status: int = 422, code: str = "validation_error"
) -> list[str]:
    """The ``field`` of every entry of a problem's ``errors``, in order."""
    return [e["field"] for e in errors_of(response, status, code)]


def mask(data: Any) -> Any:
    """JSON data with trace ids and timestamps replaced by placeholders."""
    if isinstance(data, dict):
        return {
            k: "<trace>"
            if k == "trace_id"
            else "<ts>"
            if k in TIMESTAMP_KEYS and isinstance(v, str)
            else mask(v)
            for k, v in data.items()
        }
    if isinstance(data, list):
        return [mask(v) for v in data]
    return data


def without_timestamps(entity: Mapping[str, Any]) -> dict[str, Any]:
    """``entity`` without its ``created_at``/``updated_at`` keys."""
    return {k: v for k, v in entity.items() if k not in TIMESTAMP_KEYS}


COMPARED_HEADERS = (
    "content-type",
    "content-length",
    "allow",
    "vary",
    "access-control-allow-origin",
    "access-control-allow-methods",
    "access-control-allow-headers",
    "access-control-allow-credentials",
    "access-control-max-age",
)


def transcript_entry(response: httpx.Response) -> dict[str, Any]:
    """What two runtimes must answer alike: status, the compared headers, the masked body."""
    headers = {h: response.headers.get(h) for h in COMPARED_HEADERS}
    if response.headers.get("content-type", "").endswith("json") and response.content:
        body: Any = mask(response.json())
        # A timestamp's length varies (no trailing zero microseconds): check, then mask.
        assert headers["content-length"] == str(len(response.content))
        headers["content-length"] = "<checked>"
    else:
        body = response.content
    return {"status": response.status_code, "headers": headers, "body": body}


def ids(items: Iterable[Mapping[str, Any]]) -> list[int]:
    """The ``id`` of every item."""
    return [int(item["id"]) for item in items]
