"""``/openapi.json`` (valid OpenAPI 3.1, every route), ``/docs``, ``/metrics``, lifespan."""

from __future__ import annotations

import json
from typing import Any

import pytest
from openapi_spec_validator import OpenAPIV31SpecValidator, validate
from prometheus_client.parser import text_string_to_metric_families
from tests.rest._support import LoomClient

ROUTES = {
    ("POST", "/users/register"),
    ("POST", "/users"),
    ("GET", "/users"),
    ("GET", "/users/{id}"),
    ("PATCH", "/users/{id}"),
    ("DELETE", "/users/{id}"),
    ("POST", "/users/{user_id}/addresses"),
    ("GET", "/users/{user_id}/addresses"),
    ("GET", "/users/{user_id}/addresses/{address_id}"),
    ("GET", "/products/low-stock"),
    ("POST", "/products/{product_id}/restock"),
    ("POST", "/products"),
    ("GET", "/products"),
    ("GET", "/products/{id}"),
    ("PATCH", "/products/{id}"),
    ("DELETE", "/products/{id}"),
    ("GET", "/secure/me"),
    ("GET", "/secure/service"),
    ("GET", "/secure/admin"),
    ("GET", "/reports/broken"),
}
"""Every route of the conformance app, as the OpenAPI document must list it."""


async def _document(client: LoomClient) -> dict[str, Any]:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    document: dict[str, Any] = json.loads(response.content)
    return document


def _samples(text: str, name: str) -> dict[tuple[str, str, str], float]:
    found: dict[tuple[str, str, str], float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name:
                labels = sample.labels
                found[(labels["route"], labels["method"], labels["status"])] = sample.value
    return found


# --- OpenAPI ------------------------------------------------------------------------------


async def test_openapi_is_a_valid_3_1_document(client: LoomClient) -> None:
    document = await _document(client)

    assert document["openapi"] == "3.1.0"
    assert document["info"] == {"title": "Conformance API", "version": "1.2.3"}
    validate(document, cls=OpenAPIV31SpecValidator)


async def test_openapi_documents_every_route(client: LoomClient) -> None:
    document = await _document(client)

    documented = {
        (method.upper(), path) for path, item in document["paths"].items() for method in item
    }
    assert documented == ROUTES
    served = {(e.method, e.path) for e in client.app.state.loom.endpoints}
    assert served == ROUTES


async def test_openapi_documents_bodies_parameters_and_errors(client: LoomClient) -> None:
    paths = (await _document(client))["paths"]

    create = paths["/users"]["post"]
    assert create["requestBody"]["required"] is True
    assert set(create["responses"]) == {"201", "409", "422", "500"}
    listing = paths["/products"]["get"]
    names = [p["name"] for p in listing["parameters"]]
    assert names[:6] == ["profile", "limit", "page", "cursor", "pagination", "sort"]
    assert {"price_cents__gte", "category__in", "weight_kg__is_null"} <= set(names)
    limit = next(p for p in listing["parameters"] if p["name"] == "limit")
    assert (limit["schema"]["maximum"], limit["schema"]["default"]) == (500, 50)
    assert set(paths["/users/{id}"]["delete"]["responses"]) == {"204", "404", "422", "500"}
    assert set(paths["/secure/me"]["get"]["responses"]) >= {"200", "401", "403"}
    assert paths["/products/{product_id}/restock"]["post"]["responses"]["202"]["content"]
    problem_ref = paths["/users/{id}"]["get"]["responses"]["404"]["$ref"]
    assert problem_ref == "#/components/responses/NotFound"


async def test_openapi_follows_the_config(serve: Any) -> None:
    async with serve(
        "app.rest.openapi_url=/api/schema.json",
        "app.rest.max_limit=30",
        "app.rest.default_limit=10",
        "app.rest.title=Shop",
    ) as client:
        document = json.loads((await client.get("/api/schema.json")).content)
        assert document["info"]["title"] == "Shop"
        limit = next(
            p for p in document["paths"]["/users"]["get"]["parameters"] if p["name"] == "limit"
        )
        assert (limit["schema"]["maximum"], limit["schema"]["default"]) == (30, 10)
        assert (await client.get("/openapi.json")).status_code == 404


# --- docs -----------------------------------------------------------------------------------


async def test_docs_is_an_html_page_loading_the_document(client: LoomClient) -> None:
    response = await client.get("/docs")

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.text.startswith("<!doctype html>")
    assert "<title>Conformance API</title>" in response.text
    assert 'url: "/openapi.json"' in response.text


async def test_docs_can_be_turned_off(serve: Any) -> None:
    async with serve("app.rest.docs_url=null") as client:
        assert (await client.get("/docs")).status_code == 404
        assert (await client.get("/openapi.json")).status_code == 200


# --- metrics --------------------------------------------------------------------------------


async def test_metrics_count_requests_by_route_method_and_status(
    client: LoomClient, user: dict[str, Any]
) -> None:
    await client.get(f"/users/{user['id']}")
    await client.get(f"/users/{user['id']}")
    await client.get("/users/999")
    await client.get("/reports/broken")

    response = await client.get("/metrics")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    requests = _samples(response.text, "loom_http_requests_total")
    assert requests == {
        ("/users", "POST", "201"): 1.0,
        ("/users/{id}", "GET", "200"): 2.0,
        ("/users/{id}", "GET", "404"): 1.0,
        ("/reports/broken", "GET", "500"): 1.0,
    }
    assert "loom_http_request_duration_seconds_bucket" in response.text
    assert 'loom_use_case_total{outcome="internal_error",use_case="BrokenReportUseCase"} 1.0' in (
        response.text
    )


async def test_metrics_can_be_turned_off(serve: Any) -> None:
    async with serve("observability.prometheus.enabled=false") as client:
        assert (await client.get("/metrics")).status_code == 404


async def test_metrics_path_comes_from_config(serve: Any) -> None:
    async with serve("observability.prometheus.path=/internal/metrics") as client:
        await client.get("/users")
        response = await client.get("/internal/metrics")
        assert _samples(response.text, "loom_http_requests_total") == {
            ("/users", "GET", "200"): 1.0
        }


# --- lifespan ---------------------------------------------------------------------------------


async def test_the_lifespan_starts_and_stops_the_runtime(create_app: Any, config_path: Any) -> None:
    from tests.rest._support import lifespan

    app = create_app(config_path)
    runtime = app.state.loom.runtime
    assert runtime.started is False
    async with lifespan(app):
        assert runtime.started is True
    assert runtime.started is False


@pytest.mark.parametrize("path", ["/openapi.json", "/docs", "/metrics"])
async def test_documents_answer_head_and_reject_post(client: LoomClient, path: str) -> None:
    assert (await client.head(path)).status_code == 200
    assert (await client.post(path)).status_code == 405
