"""Auth hooks (BearerTokenAuth, ApiKeyAuth, a DI-built hook raising Forbidden) and Principal."""

from __future__ import annotations

import pytest
from tests.rest._support import LoomClient, problem


def _bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


async def test_without_a_token_the_route_is_a_401(client: LoomClient) -> None:
    body = problem(await client.get("/secure/me"), 401, "unauthorized")

    assert body == {
        "type": "https://loom.dev/problems/unauthorized",
        "title": "Unauthorized",
        "status": 401,
        "detail": "missing bearer token",
        "code": "unauthorized",
        "trace_id": "<trace>",
    }


@pytest.mark.parametrize(
    ("authorization", "detail"),
    [
        ("Bearer nope", "invalid or expired token"),
        ("Bearer ", "expected an Authorization: Bearer <token> header"),
        ("Basic YWxpY2U6eA==", "expected an Authorization: Bearer <token> header"),
        ("alice-token", "expected an Authorization: Bearer <token> header"),
    ],
)
async def test_a_bad_token_is_a_401(client: LoomClient, authorization: str, detail: str) -> None:
    response = await client.get("/secure/me", headers={"authorization": authorization})

    assert problem(response, 401, "unauthorized")["detail"] == detail


@pytest.mark.parametrize(
    ("token", "principal"),
    [
        ("alice-token", {"principal_id": "alice", "roles": ["admin"]}),
        ("bob-token", {"principal_id": "bob", "roles": ["reader"]}),
    ],
)
async def test_a_good_token_reaches_the_use_case_as_its_principal(
    client: LoomClient, token: str, principal: dict[str, object]
) -> None:
    response = await client.get("/secure/me", headers=_bearer(token))

    assert response.status_code == 200
    assert response.json() == principal


async def test_the_scheme_is_case_insensitive(client: LoomClient) -> None:
    response = await client.get("/secure/me", headers={"Authorization": "bearer alice-token"})

    assert response.json()["principal_id"] == "alice"


async def test_auth_runs_before_parameter_validation(client: LoomClient) -> None:
    # An anonymous caller learns nothing about the route's parameters.
    problem(await client.get("/secure/me?debug=1"), 401, "unauthorized")
    good = await client.get("/secure/me?debug=1", headers=_bearer("alice-token"))
    assert [e["field"] for e in problem(good, 422, "validation_error")["errors"]] == ["debug"]


async def test_an_api_key_route(client: LoomClient) -> None:
    missing = problem(await client.get("/secure/service"), 401, "unauthorized")
    assert missing["detail"] == "missing x-api-key header"
    wrong = await client.get("/secure/service", headers={"X-API-Key": "key-999"})
    assert problem(wrong, 401, "unauthorized")["detail"] == "invalid API key"
    bearer = await client.get("/secure/service", headers=_bearer("alice-token"))
    problem(bearer, 401, "unauthorized")  # the route's own hook replaces the interface's

    good = await client.get("/secure/service", headers={"X-API-Key": "key-123"})
    assert good.status_code == 200
    assert good.json() == {"principal_id": "service-bot", "roles": ["service"]}


async def test_a_hook_raising_forbidden_is_a_403(client: LoomClient) -> None:
    response = await client.get("/secure/admin", headers=_bearer("bob-token"))

    assert problem(response, 403, "forbidden") == {
        "type": "https://loom.dev/problems/forbidden",
        "title": "Forbidden",
        "status": 403,
        "detail": "admins only",
        "code": "forbidden",
        "trace_id": "<trace>",
    }
    problem(await client.get("/secure/admin"), 401, "unauthorized")
    admin = await client.get("/secure/admin", headers=_bearer("alice-token"))
    assert admin.json() == {"principal_id": "alice", "roles": ["admin"]}


async def test_public_routes_ignore_credentials(client: LoomClient) -> None:
    response = await client.get("/users", headers=_bearer("nope"))

    assert response.status_code == 200
