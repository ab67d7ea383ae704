"""``app.rest.case: camel`` renames request and response fields together (and query filters)."""

from __future__ import annotations

import json
from typing import Any

from tests.rest._support import LoomClient, errors_of, fields_of, ids, problem, without_timestamps

PRODUCT = {
    "sku": "K-1",
    "name": "Kettle",
    "category": "kitchen",
    "priceCents": 2999,
    "stock": 4,
    "weightKg": 1.2,
    "releasedOn": "2024-03-01",
}


def _snake_keys(data: Any) -> list[str]:
    """Every key of ``data`` (nested) spelled with an underscore."""
    found: list[str] = []
    if isinstance(data, dict):
        found += [k for k in data if "_" in k]
        for value in data.values():
            found += _snake_keys(value)
    elif isinstance(data, list):
        for value in data:
            found += _snake_keys(value)
    return found


async def _seed(client: LoomClient) -> list[dict[str, Any]]:
    created = []
    for index, price in enumerate((500, 2999, 1500)):
        product = {**PRODUCT, "sku": f"K-{index}", "priceCents": price, "stock": index}
        response = await client.post("/products", json=product)
        assert response.status_code == 201, response.text
        created.append(response.json())
    return created


async def test_a_camel_body_creates_and_the_response_is_camel(camel_client: LoomClient) -> None:
    response = await camel_client.post("/products", json=PRODUCT)

    assert response.status_code == 201
    body = response.json()
    assert without_timestamps(body) == {"id": 1, **PRODUCT, "active": True}
    assert {"createdAt", "updatedAt"} <= set(body)
    assert _snake_keys(body) == []
    assert (await camel_client.get("/products/1")).json() == body


async def test_patch_takes_and_returns_camel(camel_client: LoomClient) -> None:
    await camel_client.post("/users", json={"fullName": "Ada", "email": "ada@x.io"})

    response = await camel_client.patch("/users/1", json={"fullName": "Ada King"})

    assert response.status_code == 200
    assert without_timestamps(response.json()) == {
        "id": 1,
        "fullName": "Ada King",
        "email": "ada@x.io",
    }


async def test_pages_are_camel(camel_client: LoomClient) -> None:
    await _seed(camel_client)

    offset = (await camel_client.get("/products", params={"pagination": "offset"})).json()
    assert set(offset) == {"items", "totalCount", "page", "limit", "hasNext"}
    cursor = (await camel_client.get("/products", params={"limit": 1})).json()
    assert set(cursor) == {"items", "nextCursor", "hasNext"}
    following = await camel_client.get("/products", params={"cursor": cursor["nextCursor"]})
    assert ids(following.json()["items"]) == [2, 3]
    assert _snake_keys([offset, cursor]) == []


async def test_filters_and_sort_take_camel_names(camel_client: LoomClient) -> None:
    await _seed(camel_client)

    page = await camel_client.get(
        "/products", params={"priceCents__gte": 1000, "sort": "-priceCents", "pagination": "offset"}
    )

    assert ids(page.json()["items"]) == [2, 3]


async def test_a_bad_camel_filter_is_named_as_sent(camel_client: LoomClient) -> None:
    errors = errors_of(await camel_client.get("/products", params={"priceCents__gte": "x"}))

    assert errors == [{"field": "priceCents__gte", "message": "must be an integer (64-bit)"}]


async def test_body_errors_name_fields_in_camel(camel_client: LoomClient) -> None:
    body = problem(await camel_client.post("/users", json={"fullName": 3}), 422, "validation_error")

    assert body["errors"] == [
        {"field": "fullName", "message": "Expected `str`, got `int`"},
        {"field": "email", "message": "field required"},
    ]
    assert body["detail"] == "fullName: Expected `str`, got `int`; email: field required"


async def test_rule_violations_name_fields_in_camel(camel_client: LoomClient) -> None:
    response = await camel_client.post("/users/register", json={"fullName": " ", "email": "bad"})

    assert fields_of(response, 422, "rule_violations") == ["fullName", "email"]


async def test_conflicts_name_fields_in_camel(camel_client: LoomClient) -> None:
    await camel_client.post("/products", json=PRODUCT)

    response = await camel_client.post("/products", json=PRODUCT)

    assert fields_of(response, 409, "conflict") == ["sku"]


async def test_nested_and_custom_routes_are_camel(camel_client: LoomClient) -> None:
    await camel_client.post("/users", json={"fullName": "Ada", "email": "ada@x.io"})
    address = await camel_client.post(
        "/users/1/addresses", json={"label": "home", "city": "Bath", "zipCode": "BA1"}
    )
    assert address.json() == {
        "id": 1,
        "userId": 1,
        "label": "home",
        "city": "Bath",
        "zipCode": "BA1",
    }
    listed = await camel_client.get("/users/1/addresses", params={"zipCode__eq": "BA1"})
    assert ids(listed.json()["items"]) == [1]

    await camel_client.post("/products", json=PRODUCT)
    restock = await camel_client.post("/products/1/restock", json={"quantity": 2})
    assert restock.json() == {"productId": 1, "sku": "K-1", "requestedQuantity": 2}


async def test_problem_members_keep_their_rfc_names(camel_client: LoomClient) -> None:
    body = (await camel_client.get("/users/5")).json()

    assert "trace_id" in body
    assert "traceId" not in body


async def test_snake_case_stays_the_default(client: LoomClient) -> None:
    response = await client.post("/users", json={"fullName": "Ada", "email": "ada@x.io"})

    assert fields_of(response) == ["fullName", "full_name"]


async def test_openapi_documents_camel_property_names(camel_client: LoomClient) -> None:
    document = json.loads((await camel_client.get("/openapi.json")).content)

    user = document["components"]["schemas"]["User"]
    assert "fullName" in user["properties"]
