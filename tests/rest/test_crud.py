"""DESIGN §6 auto-CRUD: POST 201, GET 200/404, PATCH 200/404, DELETE 204/404, GET / a page."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tests.rest._support import LoomClient, problem, without_timestamps

ADA = {"full_name": "Ada Lovelace", "email": "ada@x.io"}


def _utc(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    offset = parsed.utcoffset()
    assert offset is not None, value
    assert offset.total_seconds() == 0, value
    return parsed


async def test_post_answers_201_with_the_created_entity(client: LoomClient) -> None:
    response = await client.post("/users", json=ADA)

    assert response.status_code == 201
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert without_timestamps(body) == {"id": 1, **ADA}
    assert set(body) == {"id", "full_name", "email", "created_at", "updated_at"}
    assert _utc(body["created_at"]) == _utc(body["updated_at"])


async def test_get_answers_200_with_the_entity(client: LoomClient, user: dict[str, Any]) -> None:
    response = await client.get(f"/users/{user['id']}")

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == user


async def test_get_of_a_missing_entity_is_a_404_problem(client: LoomClient) -> None:
    body = problem(await client.get("/users/999"), 404, "not_found")

    assert body == {
        "type": "https://loom.dev/problems/not_found",
        "title": "Not Found",
        "status": 404,
        "detail": "User 999 not found",
        "code": "not_found",
        "trace_id": "<trace>",
    }


async def test_patch_answers_200_with_the_whole_updated_entity(
    client: LoomClient, user: dict[str, Any]
) -> None:
    response = await client.patch(f"/users/{user['id']}", json={"full_name": "Ada King"})

    assert response.status_code == 200
    body = response.json()
    assert without_timestamps(body) == {
        "id": user["id"],
        "full_name": "Ada King",
        "email": ADA["email"],
    }
    assert body["created_at"] == user["created_at"]
    assert _utc(body["updated_at"]) >= _utc(user["updated_at"])
    assert (await client.get(f"/users/{user['id']}")).json() == body


async def test_patch_with_an_empty_body_object_changes_nothing(
    client: LoomClient, user: dict[str, Any]
) -> None:
    response = await client.patch(f"/users/{user['id']}", json={})

    assert response.status_code == 200
    assert without_timestamps(response.json()) == without_timestamps(user)


async def test_patch_of_a_missing_entity_is_a_404_problem(client: LoomClient) -> None:
    body = problem(await client.patch("/users/999", json={"full_name": "x"}), 404, "not_found")

    assert body["detail"] == "User 999 not found"


async def test_delete_answers_204_with_no_body_then_404(
    client: LoomClient, user: dict[str, Any]
) -> None:
    response = await client.delete(f"/users/{user['id']}")

    assert response.status_code == 204
    assert response.content == b""
    assert "content-type" not in response.headers
    problem(await client.get(f"/users/{user['id']}"), 404, "not_found")
    again = problem(await client.delete(f"/users/{user['id']}"), 404, "not_found")
    assert again["detail"] == f"User {user['id']} not found"


async def test_list_answers_an_offset_page(client: LoomClient, user: dict[str, Any]) -> None:
    response = await client.get("/users")

    assert response.status_code == 200
    assert response.json() == {
        "items": [user],
        "total_count": 1,
        "page": 1,
        "limit": 50,
        "has_next": False,
    }


async def test_an_empty_list_is_an_empty_page(client: LoomClient) -> None:
    response = await client.get("/users")

    assert response.json() == {
        "items": [],
        "total_count": 0,
        "page": 1,
        "limit": 50,
        "has_next": False,
    }


async def test_a_trailing_slash_is_the_same_route(client: LoomClient) -> None:
    created = await client.post("/users/", json=ADA)
    assert created.status_code == 201
    entity = created.json()

    for path in ("/users/", "/users//", "/users"):
        response = await client.get(path)
        assert response.status_code == 200, path
        assert response.json()["items"] == [entity], path
    assert (await client.get(f"/users/{entity['id']}/")).json() == entity
    assert (await client.get(f"/users//{entity['id']}")).json() == entity
    assert (await client.patch(f"/users/{entity['id']}/", json={})).status_code == 200
    assert (await client.delete(f"/users/{entity['id']}/")).status_code == 204


async def test_a_path_parameter_of_the_wrong_type_is_a_422_naming_it(client: LoomClient) -> None:
    body = problem(await client.get("/users/abc"), 422, "validation_error")

    assert body["errors"] == [{"field": "id", "message": "must be an integer (64-bit)"}]
    assert body["detail"] == "id: must be an integer (64-bit)"


async def test_a_percent_encoded_path_parameter_is_decoded(
    client: LoomClient, user: dict[str, Any]
) -> None:
    response = await client.get("/users/%31")

    assert response.status_code == 200
    assert response.json() == user


async def test_create_then_list_round_trip_keeps_every_field(client: LoomClient) -> None:
    product = {
        "sku": "Z-9",
        "name": "Zither",
        "category": "music",
        "price_cents": 19900,
        "stock": 1,
        "weight_kg": 2.25,
        "active": False,
        "released_on": "2021-02-03",
    }
    created = (await client.post("/products", json=product)).json()

    assert without_timestamps(created) == {"id": 1, **product}
    listed = (await client.get("/products")).json()
    assert listed == {"items": [created], "next_cursor": None, "has_next": False}


async def test_defaults_fill_fields_left_out_of_a_create(client: LoomClient) -> None:
    response = await client.post(
        "/products",
        json={"sku": "Y-1", "name": "Yarn", "category": "craft", "price_cents": 300, "stock": 9},
    )

    assert response.status_code == 201
    body = response.json()
    assert (body["weight_kg"], body["active"], body["released_on"]) == (None, True, None)
