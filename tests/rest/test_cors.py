"""CORS (``app.rest.cors``): preflights and the headers of actual responses."""

from __future__ import annotations

from typing import Any

import pytest
from tests.rest._support import CORS_ORIGIN, LoomClient, problem

EVIL = "https://evil.example"
PREFLIGHT_VARY = "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"


def _preflight(origin: str, method: str = "POST", headers: str | None = None) -> dict[str, str]:
    sent = {"origin": origin, "access-control-request-method": method}
    if headers is not None:
        sent["access-control-request-headers"] = headers
    return sent


def _cors_headers(response: Any) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k.startswith("access-control-")}


async def test_a_preflight_from_an_allowed_origin_is_a_204(client: LoomClient) -> None:
    response = await client.options(
        "/users", headers=_preflight(CORS_ORIGIN, "POST", "Content-Type, Authorization")
    )

    assert response.status_code == 204
    assert response.content == b""
    assert _cors_headers(response) == {
        "access-control-allow-origin": CORS_ORIGIN,
        "access-control-allow-methods": "GET, POST, PUT, PATCH, DELETE",
        "access-control-allow-headers": "content-type, authorization",
        "access-control-max-age": "600",
    }
    assert response.headers["vary"] == PREFLIGHT_VARY


async def test_a_preflight_does_not_need_the_route_to_exist(client: LoomClient) -> None:
    response = await client.options("/anything/at/all", headers=_preflight(CORS_ORIGIN, "GET"))

    assert response.status_code == 204


@pytest.mark.parametrize(
    ("origin", "method", "headers", "refused"),
    [
        (EVIL, "POST", None, "origin https://evil.example"),
        (CORS_ORIGIN, "PURGE", None, "method PURGE"),
        (CORS_ORIGIN, "POST", "x-secret", "header x-secret"),
        (
            EVIL,
            "PURGE",
            "x-a, content-type",
            "origin https://evil.example, method PURGE, header x-a",
        ),
    ],
)
async def test_a_refused_preflight_is_a_403_problem_naming_what_is_refused(
    client: LoomClient, origin: str, method: str, headers: str | None, refused: str
) -> None:
    response = await client.options("/users", headers=_preflight(origin, method, headers))

    body = problem(response, 403, "forbidden")
    assert body["detail"] == f"CORS preflight refused: {refused}"
    assert _cors_headers(response) == {}
    assert response.headers["vary"] == PREFLIGHT_VARY


async def test_an_allowed_origin_gets_allow_origin_on_actual_responses(client: LoomClient) -> None:
    for response in (
        await client.get("/users", headers={"origin": CORS_ORIGIN}),
        await client.get("/users/9", headers={"origin": CORS_ORIGIN}),  # a 404 problem too
        await client.get("/nope", headers={"origin": CORS_ORIGIN}),
        await client.post(
            "/users", json={"full_name": "A", "email": "a@x.io"}, headers={"origin": CORS_ORIGIN}
        ),
    ):
        assert _cors_headers(response) == {"access-control-allow-origin": CORS_ORIGIN}
        assert response.headers["vary"] == "Origin"


async def test_another_origin_gets_no_cors_headers(client: LoomClient) -> None:
    response = await client.get("/users", headers={"origin": EVIL})

    assert response.status_code == 200
    assert _cors_headers(response) == {}
    assert response.headers["vary"] == "Origin"


async def test_a_request_without_origin_still_varies_on_origin(client: LoomClient) -> None:
    response = await client.get("/users")

    assert _cors_headers(response) == {}
    assert response.headers["vary"] == "Origin"


async def test_cors_is_off_without_origins(serve: Any) -> None:
    async with serve("app.rest.cors.allow_origins=[]") as client:
        actual = await client.get("/users", headers={"origin": CORS_ORIGIN})
        assert _cors_headers(actual) == {}
        assert "vary" not in actual.headers
        preflight = await client.options("/users", headers=_preflight(CORS_ORIGIN))
        assert preflight.status_code == 204  # a plain OPTIONS
        assert _cors_headers(preflight) == {}
        assert preflight.headers["allow"] == "GET, HEAD, OPTIONS, POST"


async def test_wildcards_and_credentials(serve: Any) -> None:
    async with serve(
        "app.rest.cors.allow_origins=['*']",
        "app.rest.cors.allow_headers=['*']",
        "app.rest.cors.allow_credentials=true",
        "app.rest.cors.max_age=60",
    ) as client:
        preflight = await client.options(
            "/users", headers=_preflight("https://any.example", "DELETE", "X-Custom, X-Other")
        )
        assert preflight.status_code == 204
        assert _cors_headers(preflight) == {
            # With credentials the origin is echoed, never "*".
            "access-control-allow-origin": "https://any.example",
            "access-control-allow-credentials": "true",
            "access-control-allow-methods": "GET, POST, PUT, PATCH, DELETE",
            "access-control-allow-headers": "x-custom, x-other",
            "access-control-max-age": "60",
        }
        actual = await client.get("/users", headers={"origin": "https://any.example"})
        assert _cors_headers(actual) == {
            "access-control-allow-origin": "https://any.example",
            "access-control-allow-credentials": "true",
        }


async def test_a_wildcard_origin_without_credentials_answers_star(serve: Any) -> None:
    async with serve("app.rest.cors.allow_origins=['*']") as client:
        actual = await client.get("/users", headers={"origin": "https://any.example"})
        assert _cors_headers(actual) == {"access-control-allow-origin": "*"}
        assert "vary" not in actual.headers
