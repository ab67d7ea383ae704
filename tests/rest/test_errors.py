"""DESIGN §6 errors: RFC 9457 problems; 422 (never 500) for bad input; 409; 413; 415; 500."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from tests.rest._support import MAX_BODY, LoomClient, errors_of, fields_of, problem
from tests.rest.app.use_cases import SECRET_SQL

from loom.core.logging import logger

JSON_HEADERS = {"content-type": "application/json"}


# --- malformed and invalid bodies -----------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [b"{bad", b'{"full_name": "x",}', b"\xff\xfe", b'{"full_name": "x"', b"nul", b"{}}"],
)
async def test_malformed_json_is_a_422(client: LoomClient, content: bytes) -> None:
    response = await client.post("/users", content=content, headers=JSON_HEADERS)

    body = problem(response, 422, "validation_error")
    assert [e["field"] for e in body["errors"]] == [""]
    assert body["errors"][0]["message"].startswith("malformed JSON")
    assert body["title"] == "Unprocessable Content"


async def test_wrong_types_are_a_422_listing_every_field(client: LoomClient) -> None:
    response = await client.post(
        "/products",
        json={
            "sku": 1,
            "name": "n",
            "category": "c",
            "price_cents": "cheap",
            "stock": 1.5,
            "active": "yes",
        },
    )

    assert fields_of(response) == ["sku", "price_cents", "stock", "active"]


async def test_missing_fields_are_a_422_listing_every_field(client: LoomClient) -> None:
    errors = errors_of(await client.post("/products", json={"name": "n"}))

    assert errors == [  # in the order the command declares them
        {"field": "sku", "message": "field required"},
        {"field": "category", "message": "field required"},
        {"field": "price_cents", "message": "field required"},
        {"field": "stock", "message": "field required"},
    ]


async def test_a_wrong_type_and_a_missing_field_are_listed_together(client: LoomClient) -> None:
    body = problem(await client.post("/users", json={"full_name": 5}), 422, "validation_error")

    assert body == {
        "type": "https://loom.dev/problems/validation_error",
        "title": "Unprocessable Content",
        "status": 422,
        "detail": "full_name: Expected `str`, got `int`; email: field required",
        "code": "validation_error",
        "trace_id": "<trace>",
        "errors": [
            {"field": "full_name", "message": "Expected `str`, got `int`"},
            {"field": "email", "message": "field required"},
        ],
    }


async def test_an_unknown_body_field_is_a_422(client: LoomClient) -> None:
    response = await client.post("/users", json={"full_name": "x", "email": "x@x.io", "admin": 1})

    assert errors_of(response) == [{"field": "admin", "message": "unknown field"}]


@pytest.mark.parametrize("content", [b"[]", b'"text"', b"42", b"null", b"true"])
async def test_a_body_that_is_not_an_object_is_a_422(client: LoomClient, content: bytes) -> None:
    assert fields_of(await client.post("/users", content=content, headers=JSON_HEADERS)) == [""]


async def test_a_string_over_the_column_length_is_a_422(client: LoomClient) -> None:
    response = await client.post("/users", json={"full_name": "x" * 121, "email": "x@x.io"})

    assert fields_of(response) == ["full_name"]


async def test_null_for_a_required_field_in_a_patch_is_a_422(
    client: LoomClient, user: dict[str, Any]
) -> None:
    response = await client.patch(f"/users/{user['id']}", json={"full_name": None})

    assert errors_of(response) == [{"field": "full_name", "message": "must not be null"}]


@pytest.mark.parametrize("content_type", [None, "application/json", "text/plain"])
async def test_an_empty_body_on_a_post_is_a_422(
    client: LoomClient, content_type: str | None
) -> None:
    headers = {"content-type": content_type} if content_type else {}
    response = await client.post("/users", content=b"", headers=headers)

    assert errors_of(response) == [{"field": "", "message": "a request body is required"}]


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/xml",
    ],
)
async def test_a_non_json_body_is_a_415(client: LoomClient, content_type: str) -> None:
    response = await client.post(
        "/users",
        content=b'{"full_name": "x", "email": "x@x.io"}',
        headers={"content-type": content_type},
    )

    body = problem(response, 415, "unsupported_media_type")
    assert body["title"] == "Unsupported Media Type"
    assert body["detail"] == f"send the body as application/json, not {content_type}"
    assert "errors" not in body


@pytest.mark.parametrize(
    "content_type",
    ["application/json; charset=utf-8", "application/merge-patch+json", "APPLICATION/JSON"],
)
async def test_json_media_types_are_accepted(client: LoomClient, content_type: str) -> None:
    response = await client.post(
        "/users",
        content=b'{"full_name": "x", "email": "x@x.io"}',
        headers={"content-type": content_type},
    )

    assert response.status_code == 201


async def test_a_body_without_a_content_type_is_read_as_json(client: LoomClient) -> None:
    response = await client.post("/users", content=b'{"full_name": "x", "email": "x@x.io"}')

    assert response.status_code == 201


# --- conflicts and rules ------------------------------------------------------------


async def test_a_unique_violation_is_a_409_naming_the_field(
    client: LoomClient, user: dict[str, Any]
) -> None:
    response = await client.post("/users", json={"full_name": "Other", "email": user["email"]})

    assert problem(response, 409, "conflict") == {
        "type": "https://loom.dev/problems/conflict",
        "title": "Conflict",
        "status": 409,
        "detail": "a record with this email already exists",
        "code": "conflict",
        "trace_id": "<trace>",
        "errors": [{"field": "email", "message": "a record with this value already exists"}],
    }
    assert (await client.get("/users")).json()["total_count"] == 1


async def test_a_unique_violation_on_update_is_a_409(
    client: LoomClient, user: dict[str, Any]
) -> None:
    other = (await client.post("/users", json={"full_name": "Bob", "email": "bob@x.io"})).json()

    response = await client.patch(f"/users/{other['id']}", json={"email": user["email"]})

    assert fields_of(response, 409, "conflict") == ["email"]
    assert (await client.get(f"/users/{other['id']}")).json()["email"] == "bob@x.io"


async def test_rules_are_a_422_listing_every_violation(client: LoomClient) -> None:
    response = await client.post("/users/register", json={"full_name": "  ", "email": "nope"})

    assert problem(response, 422, "rule_violations") == {
        "type": "https://loom.dev/problems/rule_violations",
        "title": "Unprocessable Content",
        "status": 422,
        "detail": "full_name: full_name must not be blank; email: email must be valid",
        "code": "rule_violations",
        "trace_id": "<trace>",
        "errors": [
            {"field": "full_name", "message": "full_name must not be blank"},
            {"field": "email", "message": "email must be valid"},
        ],
    }
    assert (await client.get("/users")).json()["total_count"] == 0


async def test_a_rule_abiding_command_passes(client: LoomClient) -> None:
    response = await client.post("/users/register", json={"full_name": "Eve", "email": "eve@x.io"})

    assert response.status_code == 201
    assert response.json()["email"] == "eve@x.io"


# --- unknown routes and methods -------------------------------------------------------


@pytest.mark.parametrize("path", ["/nope", "/users/1/nope", "/", "/products/1/restock/x"])
async def test_an_unknown_route_is_a_404_problem(client: LoomClient, path: str) -> None:
    body = problem(await client.get(path), 404, "not_found")

    assert body["detail"] == f"no route for GET {path}"


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("PUT", "/users/1", "DELETE, GET, HEAD, OPTIONS, PATCH"),
        ("DELETE", "/users", "GET, HEAD, OPTIONS, POST"),
        ("POST", "/products/low-stock", "GET, HEAD, OPTIONS"),
        ("PATCH", "/products/low-stock", "GET, HEAD, OPTIONS"),
        ("GET", "/users/register", "OPTIONS, POST"),
        ("POST", "/openapi.json", "GET, HEAD, OPTIONS"),
        ("PURGE", "/users", "GET, HEAD, OPTIONS, POST"),
    ],
)
async def test_an_unknown_method_is_a_405_problem_with_allow(
    client: LoomClient, method: str, path: str, allow: str
) -> None:
    response = await client.request(method, path)

    body = problem(response, 405, "method_not_allowed")
    assert body["title"] == "Method Not Allowed"
    assert body["detail"] == f"{method} is not allowed on {path}"
    assert response.headers["allow"] == allow


async def test_a_static_segment_wins_over_a_path_parameter(
    client: LoomClient, products: list[dict[str, Any]]
) -> None:
    low = await client.get("/products/low-stock")

    assert low.status_code == 200
    assert [item["id"] for item in low.json()["items"]] == [3, 6, 1, 4]


async def test_head_is_get_without_a_body(client: LoomClient, user: dict[str, Any]) -> None:
    get = await client.get(f"/users/{user['id']}")
    head = await client.head(f"/users/{user['id']}")

    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-type"] == "application/json"
    assert head.headers["content-length"] == get.headers["content-length"]
    missing = await client.head("/users/999")
    assert (missing.status_code, missing.content) == (404, b"")


async def test_options_answers_204_with_allow(client: LoomClient) -> None:
    response = await client.options("/users/7")

    assert response.status_code == 204
    assert response.content == b""
    assert response.headers["allow"] == "DELETE, GET, HEAD, OPTIONS, PATCH"
    problem(await client.options("/nope"), 404, "not_found")


# --- body size ----------------------------------------------------------------------


def _big_user() -> bytes:
    return b'{"full_name": "' + b"x" * MAX_BODY + b'", "email": "big@x.io"}'


async def test_a_body_over_max_body_size_is_a_413_problem(client: LoomClient) -> None:
    response = await client.post("/users", content=_big_user(), headers=JSON_HEADERS)

    body = problem(response, 413, "payload_too_large")
    assert body["title"] == "Content Too Large"
    assert body["detail"] == "the request body is too large"
    assert (await client.get("/users")).json()["total_count"] == 0


async def test_a_streamed_body_over_max_body_size_is_a_413(client: LoomClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(8):
            yield b" " * (MAX_BODY // 4)
        yield b'{"full_name": "x", "email": "x@x.io"}'

    response = await client.post("/users", content=chunks(), headers=JSON_HEADERS)

    problem(response, 413, "payload_too_large")


async def test_a_body_at_max_body_size_is_accepted(client: LoomClient) -> None:
    content = b'{"full_name": "x", "email": "x@x.io"}'
    padded = content + b" " * (MAX_BODY - len(content))

    response = await client.post("/users", content=padded, headers=JSON_HEADERS)

    assert response.status_code == 201


async def test_max_body_size_comes_from_config(serve: Any) -> None:
    async with serve("app.rest.max_body_size=16") as client:
        response = await client.post("/users", json={"full_name": "x", "email": "x@x.io"})
        problem(response, 413, "payload_too_large")


# --- unexpected errors ----------------------------------------------------------------


async def test_an_unexpected_error_is_a_500_with_a_trace_id_only(client: LoomClient) -> None:
    logged: list[str] = []
    sink = logger.add(lambda message: logged.append(str(message)), level="ERROR")
    try:
        response = await client.get("/reports/broken")
    finally:
        logger.remove(sink)

    body = problem(response, 500, "internal_error")
    assert body == {
        "type": "https://loom.dev/problems/internal_error",
        "title": "Internal Server Error",
        "status": 500,
        "detail": "An unexpected error occurred; quote the trace_id when reporting it.",
        "code": "internal_error",
        "trace_id": "<trace>",
    }
    for secret in (SECRET_SQL, "SELECT", "passwords", "RuntimeError", "Traceback", "use_cases.py"):
        assert secret not in response.text
        assert secret.lower() not in response.text.lower()
    trace_id = response.json()["trace_id"]
    assert any(trace_id in line and SECRET_SQL in line for line in logged), logged


async def test_the_app_keeps_serving_after_a_500(client: LoomClient) -> None:
    first = await client.get("/reports/broken")
    second = await client.get("/reports/broken")

    assert first.status_code == second.status_code == 500
    assert first.json()["trace_id"] != second.json()["trace_id"]
    assert (await client.get("/users")).status_code == 200


async def test_every_problem_names_its_own_trace_id(client: LoomClient) -> None:
    seen = set()
    for _ in range(5):
        seen.add((await client.get("/users/999")).json()["trace_id"])

    assert len(seen) == 5
