"""Nested resources (parent guard, scoping, ON DELETE CASCADE) and custom routes."""

from __future__ import annotations

from typing import Any

import pytest
from tests.rest._support import LoomClient, fields_of, ids, problem

HOME = {"label": "home", "city": "London", "zip_code": "N1"}
WORK = {"label": "work", "city": "Leeds", "zip_code": "LS1"}


async def _user(client: LoomClient, email: str) -> int:
    response = await client.post("/users", json={"full_name": email.split("@")[0], "email": email})
    assert response.status_code == 201
    return int(response.json()["id"])


async def _address(client: LoomClient, user_id: int, address: dict[str, str]) -> dict[str, Any]:
    response = await client.post(f"/users/{user_id}/addresses", json=address)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


# --- nested resources -------------------------------------------------------------------


async def test_a_nested_create_answers_201_with_the_parent_id(client: LoomClient) -> None:
    ada = await _user(client, "ada@x.io")

    created = await _address(client, ada, HOME)

    assert created == {"id": 1, "user_id": ada, **HOME}


async def test_a_nested_create_under_a_missing_parent_is_a_404(client: LoomClient) -> None:
    response = await client.post("/users/42/addresses", json=HOME)

    body = problem(response, 404, "not_found")
    assert body["detail"] == "User with id=42 not found"


async def test_a_nested_list_under_a_missing_parent_is_a_404(client: LoomClient) -> None:
    problem(await client.get("/users/42/addresses"), 404, "not_found")


async def test_the_parent_guard_runs_after_the_body_is_validated(client: LoomClient) -> None:
    # A bad body is a 422 even under a missing parent: every input problem first.
    assert fields_of(await client.post("/users/42/addresses", json={"label": 1})) == [
        "label",
        "city",
        "zip_code",
    ]


async def test_a_nested_list_is_scoped_to_its_parent(client: LoomClient) -> None:
    ada, bob = await _user(client, "ada@x.io"), await _user(client, "bob@x.io")
    home = await _address(client, ada, HOME)
    await _address(client, bob, WORK)
    work = await _address(client, ada, WORK)

    response = await client.get(f"/users/{ada}/addresses/")

    assert response.status_code == 200
    assert response.json() == {
        "items": [home, work],
        "total_count": 2,
        "page": 1,
        "limit": 50,
        "has_next": False,
    }
    only_bob = await client.get(f"/users/{bob}/addresses", params={"city__eq": "Leeds"})
    assert [item["user_id"] for item in only_bob.json()["items"]] == [bob]


async def test_a_nested_list_takes_list_parameters(client: LoomClient) -> None:
    ada = await _user(client, "ada@x.io")
    for address in (HOME, WORK, {**HOME, "label": "cottage", "city": "Bath"}):
        await _address(client, ada, address)

    page = (await client.get(f"/users/{ada}/addresses?sort=-city&limit=2&pagination=cursor")).json()

    assert [item["city"] for item in page["items"]] == ["London", "Leeds"]
    assert page["has_next"] is True
    assert fields_of(await client.get(f"/users/{ada}/addresses?colour__eq=red")) == ["colour__eq"]


async def test_a_nested_get_of_another_parents_child_is_a_404(client: LoomClient) -> None:
    ada, bob = await _user(client, "ada@x.io"), await _user(client, "bob@x.io")
    bobs = await _address(client, bob, WORK)

    assert (await client.get(f"/users/{bob}/addresses/{bobs['id']}")).json() == bobs
    problem(await client.get(f"/users/{ada}/addresses/{bobs['id']}"), 404, "not_found")


async def test_deleting_the_parent_cascades_to_its_children(client: LoomClient) -> None:
    ada, bob = await _user(client, "ada@x.io"), await _user(client, "bob@x.io")
    adas = [await _address(client, ada, HOME), await _address(client, ada, WORK)]
    bobs = await _address(client, bob, HOME)

    assert (await client.delete(f"/users/{ada}")).status_code == 204

    for address in adas:
        body = problem(
            await client.get(f"/users/{ada}/addresses/{address['id']}"), 404, "not_found"
        )
        assert body["detail"] == f"Address {address['id']} not found"
    problem(await client.get(f"/users/{ada}/addresses"), 404, "not_found")
    assert (await client.get(f"/users/{bob}/addresses")).json()["items"] == [bobs]


# --- custom routes ----------------------------------------------------------------------


async def test_a_custom_get_route_with_a_query_parameter(
    client: LoomClient, products: list[dict[str, Any]]
) -> None:
    default = (await client.get("/products/low-stock")).json()
    assert set(default) == {"items", "total_count", "page", "limit", "has_next"}
    assert ids(default["items"]) == [3, 6, 1, 4]  # stock <= 5, lowest first
    assert (default["total_count"], default["limit"]) == (4, 20)

    two = (await client.get("/products/low-stock", params={"threshold": 2})).json()
    assert ids(two["items"]) == [3, 6]


@pytest.mark.parametrize(("query", "field"), [("threshold=low", "threshold"), ("limit=5", "limit")])
async def test_a_custom_route_validates_its_query(
    client: LoomClient, query: str, field: str
) -> None:
    assert fields_of(await client.get(f"/products/low-stock?{query}")) == [field]


async def test_a_custom_post_route_answers_its_declared_status(
    client: LoomClient, products: list[dict[str, Any]]
) -> None:
    response = await client.post("/products/4/restock", json={"quantity": 25})

    assert response.status_code == 202
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"product_id": 4, "sku": "D-4", "requested_quantity": 25}


async def test_a_custom_route_path_parameter_is_validated_and_loaded(client: LoomClient) -> None:
    missing = problem(
        await client.post("/products/99/restock", json={"quantity": 1}), 404, "not_found"
    )
    assert missing["detail"] == "Product 99 not found"
    assert fields_of(await client.post("/products/x/restock", json={"quantity": 1})) == [
        "product_id"
    ]
    assert fields_of(await client.post("/products/1/restock", json={"quantity": "many"})) == [
        "quantity"
    ]
