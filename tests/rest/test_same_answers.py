"""One scripted conversation, replayed on every runtime: the answers must be identical.

Statuses, bodies (trace ids and timestamps masked) and the headers a client relies on
(content type, allow, vary, CORS) are compared runtime against runtime.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import pytest
from tests.rest._support import (
    CORS_ORIGIN,
    MAX_BODY,
    RUNTIMES,
    CreateApp,
    config_data,
    in_process,
    transcript_entry,
    write_config,
)

JSON = {"content-type": "application/json"}
BEARER = {"authorization": "Bearer alice-token"}
PREFLIGHT = "access-control-request-method"
PRODUCT = {"sku": "A-1", "name": "Anvil", "category": "tools", "price_cents": 2500, "stock": 3}

Step = tuple[str, str, dict[str, Any]]

SCENARIO: list[Step] = [
    ("POST", "/users", {"json": {"full_name": "Ada", "email": "ada@x.io"}}),
    ("POST", "/users/", {"json": {"full_name": "Bob", "email": "bob@x.io"}}),
    ("POST", "/users", {"json": {"full_name": "Ada 2", "email": "ada@x.io"}}),
    ("POST", "/users", {"content": b"{bad", "headers": JSON}),
    ("POST", "/users", {"content": b"", "headers": JSON}),
    ("POST", "/users", {"content": b"x=1", "headers": {"content-type": "text/plain"}}),
    ("POST", "/users", {"json": {"full_name": 1, "nick": "x"}}),
    ("POST", "/users", {"content": b"[" + b" " * MAX_BODY + b"]", "headers": JSON}),
    ("POST", "/users/register", {"json": {"full_name": " ", "email": "nope"}}),
    ("GET", "/users/1", {}),
    ("GET", "/users/1/", {}),
    ("GET", "/users/99", {}),
    ("GET", "/users/abc", {}),
    ("HEAD", "/users/1", {}),
    ("OPTIONS", "/users/1", {}),
    ("PATCH", "/users/2", {"json": {"full_name": "Robert"}}),
    ("PATCH", "/users/2", {"json": {"email": "ada@x.io"}}),
    ("PATCH", "/users/99", {"json": {}}),
    ("PUT", "/users/2", {"json": {}}),
    ("GET", "/users", {"params": {"sort": "-id", "limit": 1}}),
    ("GET", "/users", {"params": {"pagination": "cursor", "limit": 1}}),
    ("GET", "/users?limit=0&foo=1&email__like=%25a%25&full_name__zz=1&sort=nope", {}),
    ("GET", "/users", {"params": {"cursor": "forged"}}),
    ("POST", "/users/1/addresses", {"json": {"label": "home", "city": "Bath", "zip_code": "B1"}}),
    ("POST", "/users/99/addresses", {"json": {"label": "home", "city": "Bath", "zip_code": "B1"}}),
    ("GET", "/users/1/addresses/", {}),
    ("GET", "/users/1/addresses/1", {}),
    ("GET", "/users/2/addresses/1", {}),
    ("POST", "/products", {"json": PRODUCT}),
    ("POST", "/products", {"json": {**PRODUCT, "sku": "B-2", "price_cents": 99}}),
    ("GET", "/products", {"params": {"limit": 1}}),
    ("GET", "/products", {"params": {"price_cents__in": "99,2500", "sort": "-price_cents,id"}}),
    ("GET", "/products/low-stock", {"params": {"threshold": 3}}),
    ("PATCH", "/products/low-stock", {"json": {}}),
    ("POST", "/products/1/restock", {"json": {"quantity": 4}}),
    ("POST", "/products/9/restock", {"json": {"quantity": 4}}),
    ("GET", "/secure/me", {}),
    ("GET", "/secure/me", {"headers": BEARER}),
    ("GET", "/secure/admin", {"headers": {"authorization": "Bearer bob-token"}}),
    ("GET", "/secure/service", {"headers": {"x-api-key": "key-123"}}),
    ("GET", "/reports/broken", {}),
    ("OPTIONS", "/users", {"headers": {"origin": CORS_ORIGIN, PREFLIGHT: "PATCH"}}),
    ("OPTIONS", "/users", {"headers": {"origin": "https://x.example", PREFLIGHT: "GET"}}),
    ("GET", "/users", {"headers": {"origin": CORS_ORIGIN}}),
    ("GET", "/nope", {}),
    ("GET", "/nope/", {}),
    ("HEAD", "/nope", {}),
    ("OPTIONS", "/nope", {}),
    ("PURGE", "/nope", {}),
    ("PURGE", "/users", {}),
    ("DELETE", "/users/1", {}),
    ("DELETE", "/users/1", {}),
    ("GET", "/users/1/addresses/1", {}),
    ("GET", "/openapi.json", {}),
    ("GET", "/docs", {}),
]  # fmt: skip


def _available() -> dict[str, CreateApp]:
    found: dict[str, CreateApp] = {}
    for name, entry in RUNTIMES.items():
        try:
            module = importlib.import_module(entry.module)
        except ImportError:
            continue
        found[name] = getattr(module, entry.factory)
    if len(found) < 2:
        pytest.skip(f"needs two runtimes to compare, found {sorted(found)}")
    return found


async def _replay(create_app: CreateApp, name: str, config: Path, *overrides: str) -> list[Any]:
    app = create_app(config, overrides=list(overrides))
    answers = []
    async with in_process(app, name) as client:
        for method, path, kwargs in SCENARIO:
            response = await client.request(method, path, **kwargs)
            answers.append(transcript_entry(response))
    return answers


@pytest.mark.parametrize("case", ["snake", "camel"])
async def test_every_runtime_answers_the_scenario_alike(tmp_path: Path, case: str) -> None:
    config = write_config(tmp_path / "api.yaml", config_data())
    transcripts = {
        name: await _replay(create, name, config, f"app.rest.case={case}")
        for name, create in _available().items()
    }

    (first, expected), *others = transcripts.items()
    statuses = [entry["status"] for entry in expected]
    assert {201, 204, 401, 403, 404, 405, 409, 413, 415, 422, 500} <= set(statuses)
    for name, answers in others:
        for step, mine, theirs in zip(SCENARIO, answers, expected, strict=True):
            assert mine == theirs, f"{name} and {first} differ on {step[0]} {step[1]}"


async def test_every_runtime_publishes_the_same_openapi_document(tmp_path: Path) -> None:
    config = write_config(tmp_path / "api.yaml", config_data())
    documents = {}
    for name, create in _available().items():
        async with in_process(create(config), name) as client:
            documents[name] = (await client.get("/openapi.json")).content

    assert len(set(documents.values())) == 1, sorted(documents)
