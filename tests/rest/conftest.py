"""Fixtures of the REST conformance suite: one app, served by every runtime in RUNTIMES.

Every test taking ``client`` (or ``serve``/``create_app``) runs once per runtime, with
the runtime's name as the test id (``test_x[litestar]``, ``test_x[starlette]``); a
runtime whose package is not installed is skipped. The app is driven in-process through
``httpx.ASGITransport`` with its ASGI lifespan run around it (see ``lifespan``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from tests.rest._support import (
    RUNTIMES,
    CreateApp,
    LoomClient,
    config_data,
    in_process,
    write_config,
)

Serve = Callable[..., AbstractAsyncContextManager[LoomClient]]

PRODUCTS: tuple[dict[str, Any], ...] = (
    {"sku": "A-1", "name": "Anvil", "category": "tools", "price_cents": 2500, "stock": 3,
     "weight_kg": 12.5, "active": True, "released_on": "2023-05-01"},
    {"sku": "B-2", "name": "Bolt", "category": "hardware", "price_cents": 15, "stock": 900,
     "weight_kg": 0.01, "active": True, "released_on": "2024-01-15"},
    {"sku": "C-3", "name": "Chisel", "category": "tools", "price_cents": 1200, "stock": 0,
     "weight_kg": None, "active": False, "released_on": None},
    {"sku": "D-4", "name": "Drill", "category": "power", "price_cents": 8900, "stock": 5,
     "weight_kg": 1.8, "active": True, "released_on": "2024-06-30"},
    {"sku": "E-5", "name": "eraser", "category": "office", "price_cents": 120, "stock": 40,
     "weight_kg": None, "active": True, "released_on": "2022-11-11"},
    {"sku": "F-6", "name": "File", "category": "tools", "price_cents": 1200, "stock": 2,
     "weight_kg": 0.3, "active": True, "released_on": "2024-06-30"},
    {"sku": "G-7", "name": "Glue", "category": "office", "price_cents": 450, "stock": 12,
     "weight_kg": 0.2, "active": False, "released_on": "2023-12-31"},
)  # fmt: skip
"""Seven products: ties on price (1200) and release date, nulls, both booleans."""


@pytest.fixture(params=sorted(RUNTIMES), ids=str)
def runtime_name(request: pytest.FixtureRequest) -> str:
    """The name of the runtime under test."""
    name: str = request.param
    return name


@pytest.fixture
def create_app(runtime_name: str) -> CreateApp:
    """The runtime's ``create_app(*config_paths, overrides=..., runtime=...)``."""
    return RUNTIMES[runtime_name].load()


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    """The conformance app's YAML config (in-memory store, metrics and CORS on)."""
    return write_config(tmp_path / "api.yaml", config_data())


@pytest.fixture
def serve(create_app: CreateApp, config_path: Path, runtime_name: str) -> Serve:
    """``async with serve(*overrides) as client``: a fresh app (own store) and its client."""

    @asynccontextmanager
    async def serve(*overrides: str) -> AsyncIterator[LoomClient]:
        app = create_app(config_path, overrides=list(overrides))
        async with in_process(app, runtime_name) as client:
            yield client

    return serve


@pytest.fixture
async def client(serve: Serve) -> AsyncIterator[LoomClient]:
    """An in-process client of the conformance app on the runtime under test."""
    async with serve() as client:
        yield client


@pytest.fixture
async def camel_client(serve: Serve) -> AsyncIterator[LoomClient]:
    """The same app with ``app.rest.case: camel``."""
    async with serve("app.rest.case=camel") as client:
        yield client


@pytest.fixture
async def products(client: LoomClient) -> list[dict[str, Any]]:
    """:data:`PRODUCTS` created through the API (ids 1..7), as the API returned them."""
    created = []
    for product in PRODUCTS:
        response = await client.post("/products", json=product)
        assert response.status_code == 201, response.text
        created.append(response.json())
    return created


@pytest.fixture
async def user(client: LoomClient) -> dict[str, Any]:
    """One user created through the API."""
    response = await client.post("/users", json={"full_name": "Ada Lovelace", "email": "ada@x.io"})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body
