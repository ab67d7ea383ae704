"""DESIGN §6 lists: limit, page, cursor, pagination, sort, ``field__op`` filters, page shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from tests.rest._support import LoomClient, errors_of, fields_of, ids

from loom.core.errors import ConfigurationError

Products = list[dict[str, Any]]

OFFSET_KEYS = {"items", "total_count", "page", "limit", "has_next"}
CURSOR_KEYS = {"items", "next_cursor", "has_next"}


async def _get(client: LoomClient, url: str, **params: Any) -> dict[str, Any]:
    response = await client.get(url, params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def _walk(client: LoomClient, url: str, **params: Any) -> list[dict[str, Any]]:
    """Follow ``next_cursor`` from the first page to the last; return every item."""
    items: list[dict[str, Any]] = []
    page = await _get(client, url, **params)
    pages = 1
    while True:
        assert set(page) == CURSOR_KEYS
        items += page["items"]
        if not page["has_next"]:
            assert page["next_cursor"] is None
            return items
        assert isinstance(page["next_cursor"], str)
        page = await _get(client, url, **{**params, "cursor": page["next_cursor"]})
        pages += 1
        assert pages < 20, "the cursor walk does not end"


# --- page shapes and limits ---------------------------------------------------------


async def test_the_cursor_page_has_exactly_its_keys(client: LoomClient, products: Products) -> None:
    page = await _get(client, "/products", limit=3)

    assert set(page) == CURSOR_KEYS
    assert page["items"] == products[:3]
    assert page["has_next"] is True
    assert isinstance(page["next_cursor"], str)
    assert page["next_cursor"]


async def test_the_offset_page_has_exactly_its_keys(client: LoomClient, products: Products) -> None:
    page = await _get(client, "/products", pagination="offset", limit=3, page=2)

    assert page == {
        "items": products[3:6],
        "total_count": 7,
        "page": 2,
        "limit": 3,
        "has_next": True,
    }


async def test_the_last_offset_page_has_no_next(client: LoomClient, products: Products) -> None:
    page = await _get(client, "/products", pagination="offset", limit=3, page=3)

    assert page == {
        "items": products[6:],
        "total_count": 7,
        "page": 3,
        "limit": 3,
        "has_next": False,
    }


async def test_a_page_past_the_end_is_empty(client: LoomClient, products: Products) -> None:
    page = await _get(client, "/products", pagination="offset", limit=5, page=9)

    assert page == {"items": [], "total_count": 7, "page": 9, "limit": 5, "has_next": False}


async def test_limit_defaults_to_50(client: LoomClient) -> None:
    for index in range(55):
        response = await client.post(
            "/users", json={"full_name": f"User {index}", "email": f"u{index}@x.io"}
        )
        assert response.status_code == 201
    page = await _get(client, "/users")

    assert (page["limit"], len(page["items"]), page["total_count"], page["has_next"]) == (
        50,
        50,
        55,
        True,
    )
    cursor_page = await _get(client, "/users", pagination="cursor")
    assert len(cursor_page["items"]) == 50


@pytest.mark.parametrize("limit", ["501", "0", "-1", "ten", "1.5", ""])
async def test_a_limit_out_of_range_is_a_422_naming_limit(client: LoomClient, limit: str) -> None:
    errors = errors_of(await client.get("/products", params={"limit": limit}))

    assert errors == [{"field": "limit", "message": "must be an integer from 1 to 500"}]


async def test_the_limit_cap_is_500_unless_set(client: LoomClient) -> None:
    response = await client.get("/products", params={"limit": 500})

    assert response.status_code == 200


async def test_the_limit_cap_comes_from_config(serve: Any) -> None:
    async with serve("app.rest.max_limit=20", "app.rest.default_limit=5") as client:
        too_many = errors_of(await client.get("/users", params={"limit": 21}))
        assert too_many == [{"field": "limit", "message": "must be an integer from 1 to 20"}]
        assert (await _get(client, "/users", limit=20))["limit"] == 20
        assert (await _get(client, "/users"))["limit"] == 5


def test_a_cap_below_the_default_limit_fails_at_start_up(create_app: Any, config_path: Any) -> None:
    with pytest.raises(ConfigurationError) as raised:
        create_app(config_path, overrides=["app.rest.max_limit=20"])

    assert str(raised.value) == (
        "overrides: app.rest: default_limit (50) must not exceed max_limit (20)"
    )


@pytest.mark.parametrize("page", ["0", "-2", "x"])
async def test_a_bad_page_is_a_422_naming_page(client: LoomClient, page: str) -> None:
    assert fields_of(await client.get("/users", params={"page": page})) == ["page"]


# --- pagination modes and cursors -----------------------------------------------------


async def test_the_interface_default_mode_is_used_for_a_first_page(
    client: LoomClient, products: Products
) -> None:
    assert set(await _get(client, "/products")) == CURSOR_KEYS  # ProductRestInterface: cursor
    assert set(await _get(client, "/users")) == OFFSET_KEYS  # the default: offset


async def test_pagination_picks_the_mode_of_a_first_page(
    client: LoomClient, products: Products
) -> None:
    assert set(await _get(client, "/products", pagination="offset")) == OFFSET_KEYS
    assert set(await _get(client, "/users", pagination="cursor")) == CURSOR_KEYS


async def test_an_unknown_pagination_mode_is_a_422(client: LoomClient) -> None:
    assert fields_of(await client.get("/products", params={"pagination": "pages"})) == [
        "pagination"
    ]


async def test_a_cursor_walk_visits_every_item_once(client: LoomClient, products: Products) -> None:
    items = await _walk(client, "/products", limit=2)

    assert items == products


async def test_a_cursor_walk_follows_a_descending_sort_with_a_tie_breaker(
    client: LoomClient, products: Products
) -> None:
    items = await _walk(client, "/products", limit=2, sort="-price_cents,id")

    expected = sorted(products, key=lambda p: (-p["price_cents"], p["id"]))
    assert ids(items) == ids(expected)
    assert ids(items)[2:4] == [3, 6]  # the two at 1200, by id


async def test_a_cursor_walk_keeps_its_filters(client: LoomClient, products: Products) -> None:
    items = await _walk(client, "/products", limit=1, category__eq="tools", sort="-stock")

    assert ids(items) == [1, 6, 3]


async def test_a_cursor_means_cursor_mode_without_pagination(
    client: LoomClient, products: Products
) -> None:
    first = await _get(client, "/users", pagination="cursor", limit=1)
    assert first["items"] == []  # no users: the walk ends at once
    page = await _get(client, "/products", pagination="cursor", limit=3)
    second = await _get(client, "/products", cursor=page["next_cursor"], limit=3)
    assert ids(second["items"]) == [4, 5, 6]


@pytest.mark.parametrize("cursor", ["forged", "eyJpZCI6IDF9", "a.b", "%%%", ""])
async def test_a_forged_cursor_is_a_422_naming_cursor(
    client: LoomClient, products: Products, cursor: str
) -> None:
    assert fields_of(await client.get("/products", params={"cursor": cursor})) == ["cursor"]


async def test_a_tampered_cursor_is_a_422(client: LoomClient, products: Products) -> None:
    cursor = (await _get(client, "/products", limit=2))["next_cursor"]
    flipped = cursor[:-3] + ("A" if cursor[-3] != "A" else "B") + cursor[-2:]

    assert fields_of(await client.get("/products", params={"cursor": flipped})) == ["cursor"]


async def test_a_cursor_with_offset_pagination_is_a_422_naming_pagination(
    client: LoomClient, products: Products
) -> None:
    cursor = (await _get(client, "/products", limit=2))["next_cursor"]
    response = await client.get("/products", params={"cursor": cursor, "pagination": "offset"})

    assert errors_of(response) == [
        {"field": "pagination", "message": "must be cursor when a cursor is given"}
    ]


async def test_page_in_cursor_mode_is_a_422_naming_page(
    client: LoomClient, products: Products
) -> None:
    assert fields_of(await client.get("/products", params={"page": 2})) == ["page"]


# --- sort -------------------------------------------------------------------------------


async def test_sort_descending_then_ascending(client: LoomClient, products: Products) -> None:
    page = await _get(client, "/products", pagination="offset", sort="-price_cents,id")

    assert ids(page["items"]) == [4, 1, 3, 6, 7, 5, 2]


async def test_sort_ascending_by_two_fields(client: LoomClient, products: Products) -> None:
    page = await _get(client, "/products", pagination="offset", sort="category,-stock")

    assert ids(page["items"]) == [2, 5, 7, 4, 1, 6, 3]


@pytest.mark.parametrize("sort", ["colour", "-colour", "price_cents,,id", "+price_cents", ","])
async def test_a_bad_sort_is_a_422_naming_sort(client: LoomClient, sort: str) -> None:
    assert fields_of(await client.get("/products", params={"sort": sort})) == ["sort"]


# --- filters ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"category__eq": "tools"}, [1, 3, 6]),
        ({"category__ne": "tools"}, [2, 4, 5, 7]),
        ({"price_cents__gt": "1200"}, [1, 4]),
        ({"price_cents__gte": "1200"}, [1, 3, 4, 6]),
        ({"price_cents__lt": "450"}, [2, 5]),
        ({"price_cents__lte": "450"}, [2, 5, 7]),
        ({"category__in": "office,power"}, [4, 5, 7]),
        ({"id__in": "2,4,6"}, [2, 4, 6]),
        ({"name__like": "%il%"}, [1, 4, 6]),
        ({"name__like": "E%"}, []),
        ({"name__ilike": "e%"}, [5]),
        ({"weight_kg__is_null": "true"}, [3, 5]),
        ({"weight_kg__is_null": "false"}, [1, 2, 4, 6, 7]),
        ({"weight_kg__lt": "0.5"}, [2, 6, 7]),
        ({"active__eq": "false"}, [3, 7]),
        ({"released_on__gte": "2024-01-01"}, [2, 4, 6]),
        ({"released_on__eq": "2024-06-30"}, [4, 6]),
        ({"released_on__is_null": "true"}, [3]),
        ({"category__eq": "tools", "stock__lte": "2"}, [3, 6]),
        ({"price_cents__gte": "100", "price_cents__lt": "1300", "active__eq": "true"}, [5, 6]),
    ],
    ids=lambda value: (
        "&".join(f"{k}={v}" for k, v in value.items()) if isinstance(value, dict) else None
    ),
)
async def test_filters(
    client: LoomClient, products: Products, params: dict[str, str], expected: list[int]
) -> None:
    page = await _get(client, "/products", pagination="offset", sort="id", **params)

    assert ids(page["items"]) == expected
    assert page["total_count"] == len(expected)


async def test_filter_values_are_parsed_by_the_field_type(
    client: LoomClient, products: Products
) -> None:
    # "0015" is the integer 15 and "1.80" the float 1.8: compared as numbers, not text.
    assert ids((await _get(client, "/products", price_cents__eq="0015"))["items"]) == [2]
    assert ids((await _get(client, "/products", weight_kg__eq="1.80"))["items"]) == [4]


async def test_datetime_filters_take_aware_iso_8601(client: LoomClient, products: Products) -> None:
    created = products[3]["created_at"]

    since = await _get(client, "/products", created_at__gte=created, sort="id")
    since_at = datetime.fromisoformat(created)
    expected = [p for p in products if datetime.fromisoformat(p["created_at"]) >= since_at]
    assert ids(since["items"]) == ids(expected)
    assert ids(since["items"])[-4:] == [4, 5, 6, 7]
    before = await _get(client, "/products", created_at__lt="2000-01-01T00:00:00Z")
    assert before["items"] == []


async def test_a_plus_in_a_filter_value_must_be_percent_encoded(client: LoomClient) -> None:
    created = await client.post("/users", json={"full_name": "Plus", "email": "a+b@x.io"})
    assert created.status_code == 201

    encoded = await client.get("/users?email__eq=a%2Bb@x.io")
    assert ids(encoded.json()["items"]) == [1]
    plus_as_space = await client.get("/users?email__eq=a+b@x.io")
    assert plus_as_space.json()["items"] == []


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("price_cents__gt", "abc", "must be an integer (64-bit)"),
        ("weight_kg__lt", "heavy", None),
        ("active__eq", "maybe", None),
        ("released_on__gte", "2024-13-45", None),
        ("id__in", "1,two", None),
        ("weight_kg__is_null", "perhaps", None),
        ("created_at__gte", "2024-01-01T00:00:00", None),  # naive: time is never naive
    ],
)
async def test_an_unparsable_filter_value_is_a_422_naming_the_parameter(
    client: LoomClient, name: str, value: str, message: str | None
) -> None:
    errors = errors_of(await client.get("/products", params={name: value}))

    assert [e["field"] for e in errors] == [name]
    if message is not None:
        assert errors[0]["message"] == message


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("colour__eq", "unknown field 'colour'; filter on one of:"),
        ("price_cents__between", "unknown operator 'between'; price_cents takes:"),
        ("active__like", "like does not apply to active"),
        ("price_cents", "unknown query parameter; to filter, send price_cents__eq="),
        ("limt", "unknown query parameter; did you mean 'limit'?"),
        ("foo", "unknown query parameter"),
    ],
)
async def test_an_unknown_parameter_field_or_operator_is_a_422_naming_it(
    client: LoomClient, name: str, message: str
) -> None:
    errors = errors_of(await client.get("/products", params={name: "1"}))

    assert [e["field"] for e in errors] == [name]
    assert errors[0]["message"].startswith(message), errors[0]["message"]


async def test_every_bad_parameter_is_listed_at_once(client: LoomClient) -> None:
    response = await client.get("/products?limit=0&foo=1&price_cents__gt=x&sort=colour&limit=2")

    # In the order sent, whatever the runtime's own query parsing would group.
    assert fields_of(response) == ["limit", "foo", "price_cents__gt", "sort", "limit"]


async def test_a_repeated_parameter_is_a_422(client: LoomClient) -> None:
    errors = errors_of(await client.get("/products?category__eq=a&category__eq=b"))

    assert errors == [{"field": "category__eq", "message": "given more than once; send it once"}]


async def test_a_route_without_list_parameters_rejects_them(client: LoomClient, user: Any) -> None:
    assert fields_of(await client.get(f"/users/{user['id']}", params={"limit": 5})) == ["limit"]
