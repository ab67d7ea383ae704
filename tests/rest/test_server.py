"""A handful of conformance checks over TCP, with each runtime under a real uvicorn server."""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

import httpx
from tests.rest._support import (
    CORS_ORIGIN,
    MAX_BODY,
    PROBLEM_JSON,
    TRACE_ID,
    lifespan,
    uvicorn_server,
)


async def test_crud_round_trip_over_tcp(create_app: Any, config_path: Path) -> None:
    app = create_app(config_path)
    async with uvicorn_server(app) as base, httpx.AsyncClient(base_url=base) as client:
        assert app.state.loom.runtime.started is True  # uvicorn ran the lifespan
        created = await client.post("/users/", json={"full_name": "Ada", "email": "ada@x.io"})
        assert created.status_code == 201
        user = created.json()
        assert (await client.get(f"/users/{user['id']}")).json() == user
        patched = await client.patch(f"/users/{user['id']}", json={"full_name": "Ada K"})
        assert patched.json()["full_name"] == "Ada K"
        deleted = await client.delete(f"/users/{user['id']}")
        assert (deleted.status_code, deleted.content) == (204, b"")
        assert "content-type" not in deleted.headers
        assert (await client.get("/users")).json()["total_count"] == 0
    assert app.state.loom.runtime.started is False  # and its shutdown


async def test_problems_over_tcp(create_app: Any, config_path: Path) -> None:
    async with (
        uvicorn_server(create_app(config_path)) as base,
        httpx.AsyncClient(base_url=base) as client,
    ):
        for response, status in (
            (await client.get("/nope"), 404),
            (await client.put("/users/1"), 405),
            (await client.get("/users?limit=9999"), 422),
            (await client.get("/reports/broken"), 500),
            (
                await client.post(
                    "/users", content=b"{bad", headers={"content-type": "application/json"}
                ),
                422,
            ),
        ):
            assert response.status_code == status
            assert response.headers["content-type"] == PROBLEM_JSON
            body = response.json()
            assert body["status"] == status
            assert TRACE_ID.match(body["trace_id"])
            assert "passwords" not in response.text


async def test_a_large_body_is_refused_over_tcp(create_app: Any, config_path: Path) -> None:
    async with (
        uvicorn_server(create_app(config_path)) as base,
        httpx.AsyncClient(base_url=base) as client,
    ):
        content = b'{"full_name": "' + b"x" * (MAX_BODY * 4) + b'", "email": "x@x.io"}'
        response = await client.post(
            "/users", content=content, headers={"content-type": "application/json"}
        )
        assert response.status_code == 413
        assert response.json()["code"] == "payload_too_large"
        # the connection and the app are still fine
        assert (await client.get("/users")).status_code == 200


async def test_head_options_and_cors_over_tcp(create_app: Any, config_path: Path) -> None:
    async with (
        uvicorn_server(create_app(config_path)) as base,
        httpx.AsyncClient(base_url=base) as client,
    ):
        head = await client.head("/openapi.json")
        assert (head.status_code, head.content) == (200, b"")
        assert int(head.headers["content-length"]) > 1000
        preflight = await client.options(
            "/users", headers={"origin": CORS_ORIGIN, "access-control-request-method": "POST"}
        )
        assert preflight.status_code == 204
        assert preflight.headers["access-control-allow-origin"] == CORS_ORIGIN
        actual = await client.get("/users", headers={"origin": CORS_ORIGIN})
        assert actual.headers["access-control-allow-origin"] == CORS_ORIGIN
        metrics = await client.get("/metrics")
        assert 'route="/users"' in metrics.text


async def test_a_started_app_freezes_its_start_up_objects(
    create_app: Any, config_path: Path
) -> None:
    app = create_app(config_path)
    async with lifespan(app):
        # the app, its plans and everything imported so far are out of the collector's reach
        assert gc.get_freeze_count() > 10_000
    assert gc.get_freeze_count() == 0

    unfrozen = create_app(config_path, overrides=["app.rest.freeze_gc=false"])
    async with lifespan(unfrozen):
        assert gc.get_freeze_count() == 0
