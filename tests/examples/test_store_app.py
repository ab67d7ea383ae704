"""The example store app (examples/store, seed 001) driven over real HTTP.

Each parametrization starts ``loom serve config/api.yaml --runtime R --port <free>`` once
from examples/store, on a fresh database (a SQLite file under the test's temp dir, or a
PostgreSQL schema of its own, see ``_server.py``), and every test talks to it with httpx.
Tests never assume an empty database: each makes its own users and products, with
unique emails and SKUs.

The matrix: SQLite and PostgreSQL, each on Litestar and Starlette. The forced job failure
(it waits out three retries with backoff, and the HTTP runtime plays no part in it) runs
on the default runtime (Litestar) only. The manifest variant (config/api-manifest.yaml)
gets a server of its own per database. When a server stops, it must exit 0 on SIGTERM
and its log must hold no traceback (but those of known bugs, ``KNOWN_TRACEBACKS``).

``make run`` (tools/run_example.py) is started with PORT/HOST set and a ``database.url``
override in its argv, then stopped by signals. Known bugs in packages/ and tools/ are
``xfail(strict=True)`` with the reason.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from openapi_spec_validator import validate
from tests.examples._server import (
    ROOT,
    Server,
    create_pg_schema,
    drop_pg_schema,
    free_port,
    pg_tables,
    pg_url,
    server_env,
    sqlite_url,
    start_server,
    unexpected_tracebacks,
    url_override,
    wait_until_answering,
)

COMBOS = [
    pytest.param(("sqlite", "litestar"), id="sqlite-litestar"),
    pytest.param(("postgresql", "litestar"), id="postgresql-litestar", marks=pytest.mark.postgres),
    pytest.param(("sqlite", "starlette"), id="sqlite-starlette"),
    pytest.param(
        ("postgresql", "starlette"), id="postgresql-starlette", marks=pytest.mark.postgres
    ),
]
DEFAULT_RUNTIME = COMBOS[:2]
DIALECTS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]

EXPECTED_OPERATIONS = {
    ("GET", "/users"),
    ("POST", "/users"),
    ("GET", "/users/{id}"),
    ("PATCH", "/users/{id}"),
    ("DELETE", "/users/{id}"),
    ("GET", "/users/{user_id}/addresses"),
    ("POST", "/users/{user_id}/addresses"),
    ("GET", "/users/{user_id}/addresses/{address_id}"),
    ("PATCH", "/users/{user_id}/addresses/{address_id}"),
    ("DELETE", "/users/{user_id}/addresses/{address_id}"),
    ("GET", "/products"),
    ("POST", "/products"),
    ("GET", "/products/low-stock"),
    ("GET", "/products/{id}"),
    ("PATCH", "/products/{id}"),
    ("DELETE", "/products/{id}"),
    ("POST", "/products/{product_id}/jobs/restock-email"),
    ("POST", "/products/{product_id}/workflows/restock"),
    ("GET", "/jobs/{job_id}"),
}
"""Every route of the seed 001 application, as the OpenAPI document names them."""

PROBLEM = "application/problem+json"
JOB_SECONDS = 30.0
RUN_TOKEN = secrets.token_hex(3)
_counter = itertools.count()


def unique(prefix: str) -> str:
    """A value no other test of this run uses."""
    return f"{prefix}-{RUN_TOKEN}-{next(_counter)}"


@dataclass
class Store:
    """A served example app and a client for it."""

    dialect: str
    runtime: str
    server: Server
    client: httpx.Client
    database: str
    """The SQLite file path, or the PostgreSQL schema."""


def _serve(
    dialect: str, runtime: str, tmp: Path, config: str = "config/api.yaml"
) -> Iterator[Store]:
    schema = create_pg_schema("loom_store_app") if dialect == "postgresql" else None
    try:
        database = schema if schema is not None else str(tmp / "store.db")
        url = pg_url(schema) if schema is not None else sqlite_url(tmp / "store.db")
        server = start_server(
            database_url=url, runtime=runtime, config=config, log_path=tmp / "server.log"
        )
        try:
            with httpx.Client(base_url=server.base_url, timeout=10.0) as client:
                yield Store(dialect, runtime, server, client, database)
        finally:
            code = server.stop()
        assert code == 0, f"loom serve exited with {code} on SIGTERM:\n{server.log()}"
        unexpected = unexpected_tracebacks(server, dialect)
        assert unexpected == [], "\n\n".join(unexpected[:5])
    finally:
        if schema is not None:
            drop_pg_schema(schema)


@pytest.fixture(scope="module", params=COMBOS)
def store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Store]:
    """The example app (config/api.yaml) on one database and runtime, for the module."""
    dialect, runtime = request.param
    yield from _serve(dialect, runtime, tmp_path_factory.mktemp(f"store-{dialect}-{runtime}"))


@pytest.fixture
def client(store: Store) -> httpx.Client:
    return store.client


# -- helpers -------------------------------------------------------------------------


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """``response`` is an RFC 9457 problem with this status and code; return its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["trace_id"]
    return body


def create_user(client: httpx.Client, name: str = "Ada Lovelace") -> dict[str, Any]:
    response = client.post("/users", json={"full_name": name, "email": f"{unique('u')}@x.io"})
    assert response.status_code == 201, response.text
    user: dict[str, Any] = response.json()
    return user


def address_payload(label: str = "home") -> dict[str, str]:
    return {
        "label": label,
        "street": "1 Analytical Way",
        "city": "London",
        "country": "UK",
        "zip_code": "N1 9GU",
    }


def create_address(client: httpx.Client, user_id: int, label: str = "home") -> dict[str, Any]:
    response = client.post(f"/users/{user_id}/addresses", json=address_payload(label))
    assert response.status_code == 201, response.text
    address: dict[str, Any] = response.json()
    return address


def create_product(client: httpx.Client, **fields: Any) -> dict[str, Any]:
    payload = {
        "sku": unique("sku"),
        "name": "Widget",
        "category": "tools",
        "price_cents": 1299,
        "stock": 10,
    }
    payload.update(fields)
    response = client.post("/products", json=payload)
    assert response.status_code == 201, response.text
    product: dict[str, Any] = response.json()
    return product


def wait_for_job(client: httpx.Client, job_id: str, final: str) -> dict[str, Any]:
    """Poll ``GET /jobs/{job_id}`` until the job is final; it must end ``final``."""
    deadline = time.monotonic() + JOB_SECONDS
    seen: list[str] = []
    while True:
        response = client.get(f"/jobs/{job_id}")
        assert response.status_code == 200, response.text
        state: dict[str, Any] = response.json()
        seen.append(state["status"])
        if state["status"] in ("succeeded", "failed"):
            assert state["status"] == final, (state, seen)
            assert state["job_id"] == job_id
            return state
        assert state["status"] in ("queued", "running", "retrying"), state
        assert time.monotonic() < deadline, f"job {job_id} not final in time: {seen}"
        time.sleep(0.05)


def walk(client: httpx.Client, params: dict[str, Any]) -> list[list[dict[str, Any]]]:
    """Follow ``next_cursor`` from the first page of ``GET /products?params``: the pages."""
    pages: list[list[dict[str, Any]]] = []
    cursor: str | None = None
    while True:
        query = dict(params, cursor=cursor) if cursor else params
        response = client.get("/products", params=query)
        assert response.status_code == 200, response.text
        page = response.json()
        assert set(page) == {"items", "next_cursor", "has_next"}
        pages.append(page["items"])
        if not page["has_next"]:
            assert page["next_cursor"] is None
            return pages
        cursor = page["next_cursor"]
        assert isinstance(cursor, str)
        assert cursor
        assert len(pages) < 50, "the cursor walk does not end"


# -- the database is the fresh one given on the command line ------------------------


def test_the_server_uses_the_database_given_on_the_command_line(store: Store) -> None:
    create_user(store.client)
    if store.dialect == "sqlite":
        assert Path(store.database).stat().st_size > 0
    else:
        assert {"users", "addresses", "products"} <= pg_tables(store.database)


# -- users ---------------------------------------------------------------------------


def test_users_crud(client: httpx.Client) -> None:
    email = f"{unique('ada')}@x.io"
    created = client.post("/users", json={"full_name": "Ada", "email": email})
    assert created.status_code == 201, created.text
    assert created.headers["content-type"] == "application/json"
    user = created.json()
    assert user["full_name"] == "Ada"
    assert user["email"] == email
    assert isinstance(user["id"], int)
    assert user["created_at"]
    assert user["updated_at"]

    fetched = client.get(f"/users/{user['id']}")
    assert fetched.status_code == 200
    assert fetched.json() == user

    listed = client.get("/users", params={"email__eq": email})
    assert listed.status_code == 200
    page = listed.json()
    assert page["items"] == [user]
    assert page["total_count"] == 1
    assert page["page"] == 1
    assert page["has_next"] is False

    patched = client.patch(f"/users/{user['id']}", json={"full_name": "Ada King"})
    assert patched.status_code == 200, patched.text
    updated = patched.json()
    assert updated == {**user, "full_name": "Ada King", "updated_at": updated["updated_at"]}
    assert client.get(f"/users/{user['id']}").json() == updated

    deleted = client.delete(f"/users/{user['id']}")
    assert deleted.status_code == 204
    assert deleted.content == b""
    assert_problem(client.get(f"/users/{user['id']}"), 404, "not_found")
    assert_problem(client.delete(f"/users/{user['id']}"), 404, "not_found")
    assert_problem(client.patch(f"/users/{user['id']}", json={"full_name": "x"}), 404, "not_found")


def test_duplicate_email_is_409_naming_email(client: httpx.Client) -> None:
    first = create_user(client)
    again = client.post("/users", json={"full_name": "Copy", "email": first["email"]})
    body = assert_problem(again, 409, "conflict")
    assert [error["field"] for error in body["errors"]] == ["email"]

    second = create_user(client)
    patched = client.patch(f"/users/{second['id']}", json={"email": first["email"]})
    body = assert_problem(patched, 409, "conflict")
    assert [error["field"] for error in body["errors"]] == ["email"]
    assert client.get(f"/users/{second['id']}").json()["email"] == second["email"]


def test_bad_user_input_is_422_naming_the_field(client: httpx.Client) -> None:
    body = assert_problem(client.post("/users", json={"full_name": "A"}), 422, "validation_error")
    assert [error["field"] for error in body["errors"]] == ["email"]
    malformed = client.post(
        "/users", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert_problem(malformed, 422, "validation_error")
    assert_problem(client.get("/users/not-a-number"), 422, "validation_error")
    body = assert_problem(client.get("/users", params={"bogus": "1"}), 422, "validation_error")
    assert [error["field"] for error in body["errors"]] == ["bogus"]


# -- addresses, nested under users --------------------------------------------------------


def test_address_under_a_missing_user_is_404(client: httpx.Client) -> None:
    gone = create_user(client)
    assert client.delete(f"/users/{gone['id']}").status_code == 204
    created = client.post(f"/users/{gone['id']}/addresses", json=address_payload())
    body = assert_problem(created, 404, "not_found")
    assert "User" in body["detail"]
    assert_problem(client.get(f"/users/{gone['id']}/addresses"), 404, "not_found")


def test_addresses_nested_crud(client: httpx.Client) -> None:
    owner, other = create_user(client), create_user(client)
    home = create_address(client, owner["id"], "home")
    work = create_address(client, owner["id"], "work")
    elsewhere = create_address(client, other["id"], "home")
    assert home["user_id"] == owner["id"]
    assert home["label"] == "home"
    assert {k: home[k] for k in address_payload()} == address_payload("home")

    listed = client.get(f"/users/{owner['id']}/addresses")
    assert listed.status_code == 200
    assert [a["id"] for a in listed.json()["items"]] == [home["id"], work["id"]]
    assert listed.json()["total_count"] == 2

    fetched = client.get(f"/users/{owner['id']}/addresses/{home['id']}")
    assert fetched.status_code == 200
    assert fetched.json() == home
    # another user's address is not reachable through this user
    assert_problem(
        client.get(f"/users/{owner['id']}/addresses/{elsewhere['id']}"), 404, "not_found"
    )
    assert_problem(
        client.patch(f"/users/{owner['id']}/addresses/{elsewhere['id']}", json={"city": "X"}),
        404,
        "not_found",
    )
    assert_problem(
        client.delete(f"/users/{owner['id']}/addresses/{elsewhere['id']}"), 404, "not_found"
    )
    assert client.get(f"/users/{other['id']}/addresses/{elsewhere['id']}").json() == elsewhere

    patched = client.patch(f"/users/{owner['id']}/addresses/{home['id']}", json={"city": "Paris"})
    assert patched.status_code == 200, patched.text
    assert patched.json() == {**home, "city": "Paris"}

    deleted = client.delete(f"/users/{owner['id']}/addresses/{work['id']}")
    assert deleted.status_code == 204
    remaining = client.get(f"/users/{owner['id']}/addresses").json()["items"]
    assert [a["id"] for a in remaining] == [home["id"]]


def test_deleting_a_user_deletes_its_addresses(client: httpx.Client) -> None:
    user = create_user(client)
    address = create_address(client, user["id"])
    path = f"/users/{user['id']}/addresses/{address['id']}"
    assert client.get(path).status_code == 200

    assert client.delete(f"/users/{user['id']}").status_code == 204

    # GET loads the address by id alone (no user guard): a 404 means the row is gone
    body = assert_problem(client.get(path), 404, "not_found")
    assert "Address" in body["detail"]


# -- products --------------------------------------------------------------------------


def test_the_custom_repository_trims_product_names(client: httpx.Client) -> None:
    product = create_product(client, name="   Spanner \t ")
    assert product["name"] == "Spanner"
    assert client.get(f"/products/{product['id']}").json()["name"] == "Spanner"


def test_low_stock_lists_products_with_five_or_fewer(client: httpx.Client) -> None:
    empty = create_product(client, stock=0)
    five = create_product(client, stock=5)
    six = create_product(client, stock=6)

    response = client.get("/products/low-stock")
    assert response.status_code == 200, response.text
    page = response.json()
    assert page["page"] == 1
    assert page["limit"] == 20
    items = page["items"]
    assert all(item["stock"] <= 5 for item in items)
    assert [(i["stock"], i["id"]) for i in items] == sorted((i["stock"], i["id"]) for i in items)
    ids = {item["id"] for item in items}
    assert {empty["id"], five["id"]} <= ids
    assert six["id"] not in ids

    same = client.get(
        "/products",
        params={"stock__lte": 5, "sort": "stock,id", "pagination": "offset", "limit": 20},
    ).json()
    assert same["items"] == items
    assert same["total_count"] == page["total_count"]


def test_products_cursor_pagination_walk(client: httpx.Client) -> None:
    prefix = unique("walk")
    made = [
        create_product(client, sku=f"{prefix}-{n}", price_cents=100 * (n % 3), stock=100 + n)
        for n in range(7)
    ]
    ids = [p["id"] for p in made]
    like: dict[str, Any] = {"sku__like": f"{prefix}-%", "limit": 3}

    pages = walk(client, like)
    assert [len(page) for page in pages] == [3, 3, 1]
    assert [item["id"] for page in pages for item in page] == ids

    descending = [item for page in walk(client, {**like, "sort": "-price_cents"}) for item in page]
    assert sorted(item["id"] for item in descending) == sorted(ids)
    prices = [item["price_cents"] for item in descending]
    assert prices == sorted(prices, reverse=True)

    # a cursor is tamper-evident
    cursor = client.get("/products", params=like).json()["next_cursor"]
    middle = len(cursor) // 2
    forged = cursor[:middle] + ("A" if cursor[middle] != "A" else "B") + cursor[middle + 1 :]
    response = client.get("/products", params={**like, "cursor": forged})
    body = assert_problem(response, 422, "validation_error")
    assert [error["field"] for error in body["errors"]] == ["cursor"]


def test_product_patch_and_delete(client: httpx.Client) -> None:
    product = create_product(client, stock=3, price_cents=500)
    patched = client.patch(f"/products/{product['id']}", json={"stock": 40, "price_cents": 450})
    assert patched.status_code == 200, patched.text
    updated = patched.json()
    assert updated == {
        **product,
        "stock": 40,
        "price_cents": 450,
        "updated_at": updated["updated_at"],
    }
    assert client.get(f"/products/{product['id']}").json() == updated

    other = create_product(client)
    clash = client.patch(f"/products/{product['id']}", json={"sku": other["sku"]})
    body = assert_problem(clash, 409, "conflict")
    assert [error["field"] for error in body["errors"]] == ["sku"]

    assert client.delete(f"/products/{product['id']}").status_code == 204
    assert_problem(client.get(f"/products/{product['id']}"), 404, "not_found")
    assert_problem(client.patch(f"/products/{product['id']}", json={"stock": 1}), 404, "not_found")
    assert_problem(client.delete(f"/products/{product['id']}"), 404, "not_found")


def test_out_of_range_integers_are_422(store: Store) -> None:
    client = store.client
    too_big = 2**63
    created = client.post(
        "/products",
        json={
            "sku": unique("big"),
            "name": "n",
            "category": "c",
            "price_cents": too_big,
            "stock": 1,
        },
    )
    assert_problem(created, 422, "validation_error")
    product = create_product(client)
    assert_problem(
        client.patch(f"/products/{product['id']}", json={"stock": too_big}), 422, "validation_error"
    )
    assert client.get(f"/products/{product['id']}").json() == product


# -- jobs ------------------------------------------------------------------------------


def dispatch_restock(client: httpx.Client, product_id: int, **extra: Any) -> dict[str, Any]:
    response = client.post(
        f"/products/{product_id}/jobs/restock-email",
        json={"recipient_email": "buyer@x.io", **extra},
    )
    assert response.status_code == 202, response.text
    handle: dict[str, Any] = response.json()
    assert set(handle) == {"job_id", "queue"}
    assert handle["queue"] == "notifications"
    assert isinstance(handle["job_id"], str)
    assert handle["job_id"]
    return handle


def test_restock_job_succeeds_and_its_callback_marks_the_product(client: httpx.Client) -> None:
    product = create_product(client, stock=0, category="tools")
    handle = dispatch_restock(client, product["id"])

    state = wait_for_job(client, handle["job_id"], "succeeded")
    assert state["attempts"] == 1
    assert state["error_type"] is None
    # the final status and the success callback commit together
    assert client.get(f"/products/{product['id']}").json()["category"] == "tools-restock-notified"


def test_restock_job_of_a_product_in_stock_leaves_it_alone(client: httpx.Client) -> None:
    product = create_product(client, stock=7, category="garden")
    handle = dispatch_restock(client, product["id"])
    wait_for_job(client, handle["job_id"], "succeeded")
    assert client.get(f"/products/{product['id']}").json()["category"] == "garden"


def test_restock_callback_marks_the_category_once(client: httpx.Client) -> None:
    product = create_product(client, stock=0, category="tools")
    for _ in range(2):
        wait_for_job(client, dispatch_restock(client, product["id"])["job_id"], "succeeded")
    assert client.get(f"/products/{product['id']}").json()["category"] == "tools-restock-notified"


def test_restock_callback_keeps_a_long_category_within_its_column(client: httpx.Client) -> None:
    product = create_product(client, stock=0, category="c" * 120)
    wait_for_job(client, dispatch_restock(client, product["id"])["job_id"], "succeeded")
    category = client.get(f"/products/{product['id']}").json()["category"]
    assert len(category) == 120
    assert category.endswith("-restock-notified")


@pytest.mark.parametrize("store", DEFAULT_RUNTIME, indirect=True)
def test_forced_failure_retries_then_fails_and_its_callback_marks_the_product(
    client: httpx.Client,
) -> None:
    product = create_product(client, stock=0, category="toys")
    handle = dispatch_restock(client, product["id"], force_fail=True)

    state = wait_for_job(client, handle["job_id"], "failed")
    assert state["attempts"] == 4  # the first attempt and SendRestockEmailJob's 3 retries
    assert state["error_type"] == "RuntimeError"
    assert state["error_message"] == "forced restock email failure"
    assert client.get(f"/products/{product['id']}").json()["category"] == "toys-restock-failed"


def test_restock_job_of_a_missing_product_fails_at_once(client: httpx.Client) -> None:
    product = create_product(client)
    assert client.delete(f"/products/{product['id']}").status_code == 204
    handle = dispatch_restock(client, product["id"])
    state = wait_for_job(client, handle["job_id"], "failed")
    assert state["attempts"] == 1  # NotFound is not retried
    assert state["error_type"] == "NotFound"


def test_unknown_job_is_404(client: httpx.Client) -> None:
    assert_problem(client.get(f"/jobs/{unique('nope')}"), 404, "not_found")


def test_restock_workflow_summarises_then_dispatches(client: httpx.Client) -> None:
    product = create_product(client, stock=0, name="Hammer", category="tools")
    response = client.post(
        f"/products/{product['id']}/workflows/restock", json={"recipient_email": "buyer@x.io"}
    )
    assert response.status_code == 202, response.text
    body = response.json()
    assert set(body) == {"summary", "restock_job_id", "queue"}
    assert body["summary"] == f"{product['sku']} (Hammer) is out of stock."
    assert body["queue"] == "notifications"

    wait_for_job(client, body["restock_job_id"], "succeeded")
    assert client.get(f"/products/{product['id']}").json()["category"] == "tools-restock-notified"

    in_stock = create_product(client, stock=3, name="Saw")
    summary = client.post(
        f"/products/{in_stock['id']}/workflows/restock", json={"recipient_email": "buyer@x.io"}
    ).json()["summary"]
    assert summary == f"{in_stock['sku']} (Saw) is in stock."


def test_restock_workflow_of_a_missing_product_is_404(client: httpx.Client) -> None:
    product = create_product(client)
    assert client.delete(f"/products/{product['id']}").status_code == 204
    response = client.post(
        f"/products/{product['id']}/workflows/restock", json={"recipient_email": "buyer@x.io"}
    )
    assert_problem(response, 404, "not_found")


def test_job_routes_reject_bad_input_with_422(client: httpx.Client) -> None:
    product = create_product(client)
    body = assert_problem(
        client.post("/products/abc/jobs/restock-email", json={"recipient_email": "a@x.io"}),
        422,
        "validation_error",
    )
    assert [error["field"] for error in body["errors"]] == ["product_id"]
    body = assert_problem(
        client.post(f"/products/{product['id']}/workflows/restock", json={}),
        422,
        "validation_error",
    )
    assert [error["field"] for error in body["errors"]] == ["recipient_email"]


# -- documents -------------------------------------------------------------------------


def operations(document: dict[str, Any]) -> set[tuple[str, str]]:
    methods = {"get", "post", "put", "patch", "delete"}
    return {
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if method in methods
    }


def test_openapi_document(client: httpx.Client) -> None:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    document = response.json()
    assert document["openapi"].startswith("3.1")
    assert document["info"]["title"] == "Store API"
    validate(document)
    assert operations(document) == EXPECTED_OPERATIONS
    paths = document["paths"]
    assert set(paths["/users"]["post"]["responses"]) >= {"201", "409", "422"}
    assert "202" in paths["/products/{product_id}/jobs/restock-email"]["post"]["responses"]
    assert "202" in paths["/products/{product_id}/workflows/restock"]["post"]["responses"]
    assert set(paths["/users/{user_id}/addresses"]["post"]["responses"]) >= {"201", "404"}


def test_docs_page(client: httpx.Client) -> None:
    response = client.get("/docs")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "/openapi.json" in response.text


def test_metrics(client: httpx.Client) -> None:
    create_user(client)
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    lines = response.text.splitlines()
    assert any(
        line.startswith("loom_http_requests_total{")
        and 'method="POST"' in line
        and 'route="/users"' in line
        and 'status="201"' in line
        for line in lines
    ), response.text[:2000]


# -- the manifest variant --------------------------------------------------------------


@pytest.fixture(scope="module", params=DIALECTS)
def manifest_store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Store]:
    """The same app declared through app/manifest.py (config/api-manifest.yaml)."""
    dialect = request.param
    tmp = tmp_path_factory.mktemp(f"manifest-{dialect}")
    yield from _serve(dialect, "litestar", tmp, config="config/api-manifest.yaml")


def test_manifest_variant_serves_the_same_routes(manifest_store: Store) -> None:
    client = manifest_store.client
    document = client.get("/openapi.json").json()
    assert operations(document) == EXPECTED_OPERATIONS
    assert client.get("/docs").status_code == 200
    assert client.get("/metrics").status_code == 200

    user = create_user(client)
    assert create_address(client, user["id"])["user_id"] == user["id"]
    product = create_product(client, name="  Drill ", stock=0, category="tools")
    assert product["name"] == "Drill"  # ProductRepository comes from the manifest too
    low = client.get("/products/low-stock").json()["items"]
    assert product["id"] in [item["id"] for item in low]
    handle = dispatch_restock(client, product["id"])
    wait_for_job(client, handle["job_id"], "succeeded")
    assert client.get(f"/products/{product['id']}").json()["category"] == "tools-restock-notified"


# -- `make run` (tools/run_example.py) ---------------------------------------------------

RUN_EXAMPLE = ROOT / "tools" / "run_example.py"
SHUTDOWN_LINE = "Application shutdown complete"
"""uvicorn logs this once the app's lifespan shutdown (stores closed, jobs stopped) has run."""


@dataclass
class MakeRun:
    process: subprocess.Popen[bytes]
    base_url: str
    log_path: Path
    database: Path

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


@pytest.fixture
def make_run(tmp_path: Path) -> Iterator[MakeRun]:
    """``make run``'s script on a free port, its database redirected through its argv.

    It runs in a session of its own, so that a signal can go to the whole process group
    (what Ctrl-C in a terminal does) and so that teardown can end whatever is left of it.
    """
    port = free_port()
    log_path = tmp_path / "make-run.log"
    database = tmp_path / "run.db"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, str(RUN_EXAMPLE), url_override(sqlite_url(database))],
            env=server_env(HOST="127.0.0.1", PORT=str(port)),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_until_answering(base_url, process, log_path, path="/docs")
        yield MakeRun(process, base_url, log_path, database)
    finally:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, sig)
            if not answers(base_url):
                break
            time.sleep(1.0)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=5)


def answers(base_url: str) -> bool:
    try:
        httpx.get(f"{base_url}/docs", timeout=1.0)
    except httpx.TransportError:
        return False
    return True


def gone_within(base_url: str, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while answers(base_url):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def test_make_run_serves_docs_and_stops_on_ctrl_c(make_run: MakeRun) -> None:
    docs = httpx.get(f"{make_run.base_url}/docs")
    assert docs.status_code == 200
    assert "/openapi.json" in docs.text
    assert f"Serving the example store API on {make_run.base_url}" in make_run.log()
    created = httpx.post(
        f"{make_run.base_url}/users", json={"full_name": "Ada", "email": "ada@x.io"}
    )
    assert created.status_code == 201
    assert make_run.database.exists()  # the override in the script's argv reached `loom serve`

    os.killpg(make_run.process.pid, signal.SIGINT)  # Ctrl-C: SIGINT to the whole group

    assert make_run.process.wait(timeout=20) == 0
    assert gone_within(make_run.base_url, 5.0), "the server still answers"
    assert "Traceback" not in make_run.log()


@pytest.mark.parametrize(
    "sig",
    [
        pytest.param(
            signal.SIGTERM,
            id="SIGTERM",
        ),
        pytest.param(
            signal.SIGINT,
            id="SIGINT",
        ),
    ],
)
def test_make_run_stops_cleanly_when_only_its_process_is_signalled(
    make_run: MakeRun, sig: signal.Signals
) -> None:
    """``kill -TERM <pid>`` / ``kill -INT <pid>``, as a supervisor or a script sends them."""
    make_run.process.send_signal(sig)
    with contextlib.suppress(subprocess.TimeoutExpired):
        make_run.process.wait(timeout=20)

    assert gone_within(make_run.base_url, 10.0), "`loom serve` still answers"
    assert make_run.process.returncode == 0
    assert SHUTDOWN_LINE in make_run.log(), make_run.log()
