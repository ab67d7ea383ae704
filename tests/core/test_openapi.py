"""``loom.core.http.generate_openapi``: one OpenAPI 3.1 document for every runtime."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import msgspec
import pytest
from tests.core.http_fixtures import ROUTES, Product, route

from loom.core.errors import ValidationError
from loom.core.http import (
    PROBLEM_CONTENT_TYPE,
    ListSettings,
    bind_request,
    generate_openapi,
    request_binder,
)
from loom.core.interface import RestInterface, RestRoute, RouteSpec, compile_interfaces
from loom.core.use_case.use_case import UseCase

DOC = generate_openapi(ROUTES, title="Store API", version="0.1.0", description="Seed 001")
COMPONENT_NAME = re.compile(r"^[a-zA-Z0-9._-]+$")


def operation(method: str, path: str, doc: dict[str, Any] = DOC) -> dict[str, Any]:
    found: dict[str, Any] = doc["paths"][path][method.lower()]
    return found


def parameters(method: str, path: str, doc: dict[str, Any] = DOC) -> dict[str, dict[str, Any]]:
    return {p["name"]: p for p in operation(method, path, doc).get("parameters", [])}


def refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from refs(item)


def resolve(doc: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = doc
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def test_the_document_header() -> None:
    assert DOC["openapi"] == "3.1.0"
    assert DOC["info"] == {"title": "Store API", "version": "0.1.0", "description": "Seed 001"}
    assert [t["name"] for t in DOC["tags"]] == ["Users", "UserAddresses", "Products", "Jobs"]


def test_every_route_is_present_once_with_its_operation_id() -> None:
    operations = [op for item in DOC["paths"].values() for op in item.values()]
    assert len(operations) == len(ROUTES)
    for spec in ROUTES:
        op = operation(spec.method, spec.path)
        assert op["operationId"] == spec.operation_id
        assert op["tags"] == list(spec.tags)
    ids = [op["operationId"] for op in operations]
    assert len(set(ids)) == len(ids)


def test_summaries_and_descriptions() -> None:
    assert operation("GET", "/products/low-stock")["summary"] == "List low stock products"
    category = operation("GET", "/products/categories/{category}")
    assert category["description"] == "Takes every list parameter, plus in_stock_only."
    from_docstring = operation("GET", "/users/{user_id}/addresses/{address_id}")
    assert from_docstring["summary"] == "Get one address of a user."
    assert (
        from_docstring["description"] == "The address is loaded by id; a missing one answers 404."
    )
    assert operation("POST", "/users")["summary"] == "Create a User"


@pytest.mark.parametrize(
    ("method", "path", "statuses"),
    [
        ("POST", "/users", {"201", "409", "422", "500"}),
        ("GET", "/users/{id}", {"200", "404", "422", "500"}),
        ("PATCH", "/users/{id}", {"200", "404", "409", "422", "500"}),
        ("DELETE", "/users/{id}", {"204", "404", "422", "500"}),
        ("GET", "/users", {"200", "422", "500"}),
        ("GET", "/users/by-email", {"200", "422", "500"}),
        ("POST", "/users/{user_id}/addresses", {"201", "404", "409", "422", "500"}),
        ("GET", "/users/{user_id}/addresses", {"200", "404", "422", "500"}),
        ("DELETE", "/users/{user_id}/addresses/{address_id}", {"204", "404", "422", "500"}),
        ("GET", "/products/low-stock", {"200", "422", "500"}),
        (
            "POST",
            "/products/{product_id}/jobs/restock-email",
            {"202", "401", "403", "404", "409", "422", "500"},
        ),
    ],
)
def test_status_codes_per_route(method: str, path: str, statuses: set[str]) -> None:
    assert set(operation(method, path)["responses"]) == statuses


def test_a_route_without_params_documents_only_success_and_500() -> None:
    class PingUseCase(UseCase[Product, str]):
        read_only = True

        async def execute(self) -> str:
            return "pong"

    class PingInterface(RestInterface[Product]):
        prefix = "/ping"
        routes = (RestRoute(use_case=PingUseCase, method="GET", path="/"),)

    doc = generate_openapi(compile_interfaces([PingInterface]), title="t", version="1")
    op = operation("GET", "/ping", doc)
    assert set(op["responses"]) == {"200", "500"}
    assert "parameters" not in op
    assert op["responses"]["200"]["content"]["application/json"]["schema"] == {"type": "string"}


def test_success_responses_carry_their_schema() -> None:
    created = operation("POST", "/users")["responses"]["201"]
    assert created["description"] == "Created"
    assert created["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/User"}
    deleted = operation("DELETE", "/products/{id}")["responses"]["204"]
    assert deleted == {"description": "No Content"}
    accepted = operation("POST", "/products/{product_id}/jobs/restock-email")["responses"]["202"]
    assert accepted["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/DispatchRestockEmailResponse"
    }


def test_a_list_route_answers_an_offset_or_a_cursor_page() -> None:
    schema = operation("GET", "/products")["responses"]["200"]["content"]["application/json"]
    assert schema["schema"] == {
        "anyOf": [
            {"$ref": "#/components/schemas/PageResult_Product_"},
            {"$ref": "#/components/schemas/CursorResult_Product_"},
        ]
    }
    low_stock = operation("GET", "/products/low-stock")["responses"]["200"]["content"]
    assert low_stock["application/json"]["schema"] == {
        "$ref": "#/components/schemas/PageResult_Product_"
    }


def test_page_result_components_are_distinct_per_model() -> None:
    schemas = DOC["components"]["schemas"]
    for model in ("User", "Address", "Product"):
        page = schemas[f"PageResult_{model}_"]
        cursor = schemas[f"CursorResult_{model}_"]
        assert page["properties"]["items"] == {
            "type": "array",
            "items": {"$ref": f"#/components/schemas/{model}"},
        }
        assert set(page["required"]) == {"items", "total_count", "page", "limit", "has_next"}
        assert set(cursor["required"]) == {"items", "next_cursor", "has_next"}
        assert cursor["properties"]["next_cursor"] == {
            "anyOf": [{"type": "string"}, {"type": "null"}]
        }
    assert all(COMPONENT_NAME.match(name) for name in schemas)


def test_error_responses_share_the_problem_details_schema() -> None:
    responses = DOC["components"]["responses"]
    assert set(responses) == {
        "Unauthorized",
        "Forbidden",
        "NotFound",
        "Conflict",
        "ValidationError",
        "InternalError",
    }
    for response in responses.values():
        assert response["content"] == {
            PROBLEM_CONTENT_TYPE: {"schema": {"$ref": "#/components/schemas/ProblemDetails"}}
        }
    assert operation("GET", "/users/{id}")["responses"]["404"] == {
        "$ref": "#/components/responses/NotFound"
    }
    problem = DOC["components"]["schemas"]["ProblemDetails"]
    assert set(problem["required"]) == {"type", "title", "status", "detail", "code", "trace_id"}
    assert problem["properties"]["errors"]["items"] == {
        "$ref": "#/components/schemas/ProblemFieldError"
    }
    field_error = DOC["components"]["schemas"]["ProblemFieldError"]
    assert set(field_error["required"]) == {"field", "message"}


def test_request_bodies_come_from_the_command() -> None:
    create = operation("POST", "/users")["requestBody"]
    assert create == {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CreateUser"}}},
    }
    schemas = DOC["components"]["schemas"]
    assert set(schemas["CreateUser"]["required"]) == {"full_name", "email"}
    assert schemas["CreateUser"]["properties"]["email"]["maxLength"] == 255
    assert schemas["UpdateUser"]["required"] == []
    patch = operation("PATCH", "/users/{user_id}/addresses/{address_id}")["requestBody"]
    assert patch["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/UpdateAddress"
    }
    assert "requestBody" not in operation("GET", "/users/{id}")
    assert "requestBody" not in operation("DELETE", "/users/{id}")


def test_path_and_plain_query_parameters() -> None:
    nested = parameters("GET", "/users/{user_id}/addresses/{address_id}")
    assert nested == {
        "user_id": {
            "name": "user_id",
            "in": "path",
            "required": True,
            "schema": {"type": "integer"},
        },
        "address_id": {
            "name": "address_id",
            "in": "path",
            "required": True,
            "schema": {"type": "integer"},
        },
    }
    low_stock = parameters("GET", "/products/low-stock")
    assert low_stock["threshold"]["schema"] == {"type": "integer", "default": 5}
    assert low_stock["threshold"]["required"] is False
    assert low_stock["profile"]["schema"] == {"type": "string", "default": "default"}
    assert "limit" not in low_stock
    assert parameters("GET", "/users/by-email")["email"]["required"] is True


def test_list_parameters() -> None:
    params = parameters("GET", "/products")
    assert params["limit"]["schema"] == {
        "type": "integer",
        "minimum": 1,
        "maximum": 500,
        "default": 50,
    }
    assert params["page"]["schema"]["minimum"] == 1
    assert params["cursor"]["schema"] == {"type": "string"}
    assert params["pagination"]["schema"]["enum"] == ["offset", "cursor"]
    assert params["pagination"]["schema"]["default"] == "cursor"
    assert parameters("GET", "/users")["pagination"]["schema"]["default"] == "offset"
    sort = params["sort"]["description"]
    assert "price_cents" in sort
    assert "`-`" in sort
    assert "attributes" not in sort
    assert all(p["in"] == "query" and p["required"] is False for p in params.values())


def test_one_filter_parameter_per_operator_that_fits_the_column() -> None:
    names = set(parameters("GET", "/products"))

    def ops(field: str) -> set[str]:
        return {n.split("__", 1)[1] for n in names if n.startswith(f"{field}__")}

    ordered = {"eq", "ne", "gt", "gte", "lt", "lte", "in"}
    assert ops("price_cents") == ordered
    assert ops("name") == ordered | {"like", "ilike"}
    assert ops("weight_kg") == ordered | {"is_null"}
    assert ops("active") == {"eq", "ne"}
    assert ops("status") == {"eq", "ne", "in"}
    assert ops("external_id") == {"eq", "ne", "in", "is_null"}
    assert ops("attributes") == {"is_null"}
    assert ops("restocked_at") == ordered | {"is_null"}


def test_filter_parameter_schemas_follow_the_column_type() -> None:
    params = parameters("GET", "/products")
    assert params["restocked_at__gt"]["schema"] == {"type": "string", "format": "date-time"}
    assert params["released_on__lte"]["schema"] == {"type": "string", "format": "date"}
    assert params["external_id__eq"]["schema"] == {"type": "string", "format": "uuid"}
    assert params["weight_kg__is_null"]["schema"] == {"type": "boolean"}
    assert params["status__eq"]["schema"] == {"enum": ["draft", "active", "retired"]}
    in_list = params["price_cents__in"]
    assert in_list["schema"] == {"type": "array", "items": {"type": "integer"}, "minItems": 1}
    assert (in_list["style"], in_list["explode"]) == ("form", False)
    assert "price_cents" in params["price_cents__gt"]["description"]


def _sample(schema: dict[str, Any]) -> str:
    if "enum" in schema:
        return str(schema["enum"][0])
    if schema.get("type") == "array":
        return ",".join([_sample(schema["items"])] * 2)
    samples = {
        "integer": "1",
        "number": "1.5",
        "boolean": "true",
        "date-time": "2024-05-01T12:00:00Z",
        "date": "2024-05-01",
        "time": "12:00:00",
        "uuid": "12345678-1234-5678-1234-567812345678",
        "decimal": "1.25",
    }
    return samples.get(schema.get("format", ""), samples.get(schema.get("type", ""), "x"))


@pytest.mark.parametrize("settings", [ListSettings(), ListSettings(case="camel")])
@pytest.mark.parametrize("spec", [s for s in ROUTES if s.method == "GET"], ids=str)
def test_every_documented_parameter_is_accepted_by_bind_request(
    spec: RouteSpec, settings: ListSettings
) -> None:
    doc = generate_openapi(ROUTES, title="t", version="1", settings=settings)
    params = parameters(spec.method, spec.path, doc)
    path = {n: _sample(p["schema"]) for n, p in params.items() if p["in"] == "path"}
    for name, param in params.items():
        if param["in"] != "query":
            continue
        query = [(name, "id" if name == "sort" else _sample(param["schema"]))]
        if name == "page":
            query.append(("pagination", "offset"))
        try:
            bind_request(spec, path, query, settings=settings)
        except ValidationError as exc:  # pragma: no cover - the assertion explains
            pytest.fail(f"{spec.method} {spec.path} ?{name}: {exc.errors}")
    binder = request_binder(spec, settings)
    documented = {n for n in params if "__" in n}
    assert documented == {f.name for f in binder.filters}


def test_camel_case_and_a_lower_cap_show_in_the_document() -> None:
    settings = ListSettings(case="camel", max_limit=100, default_limit=20)
    doc = generate_openapi(ROUTES, title="t", version="1", settings=settings)
    params = parameters("GET", "/products/categories/{category}", doc)
    assert "priceCents__gt" in params
    assert "price_cents__gt" not in params
    assert "inStockOnly" in params
    assert params["limit"]["schema"]["maximum"] == 100
    assert params["limit"]["schema"]["default"] == 20
    assert "priceCents" in params["sort"]["description"]


def test_every_ref_resolves() -> None:
    found = list(refs(DOC))
    assert len(found) > 50
    for ref in found:
        assert resolve(DOC, ref) is not None, ref


def test_every_component_is_used_or_is_problem_details() -> None:
    used = {ref.rsplit("/", 1)[1] for ref in refs(DOC)}
    assert set(DOC["components"]["schemas"]) <= used | {"ProblemDetails"}
    assert set(DOC["components"]["responses"]) <= used


def test_the_document_is_json_and_deterministic() -> None:
    encoded = json.dumps(DOC, sort_keys=False)
    assert json.loads(encoded) == DOC
    assert msgspec.json.encode(DOC) == msgspec.json.encode(
        generate_openapi(ROUTES, title="Store API", version="0.1.0", description="Seed 001")
    )


class Opaque:
    """A type msgspec cannot describe."""


class OpaqueUseCase(UseCase[Product, Opaque]):
    read_only = True

    async def execute(self, id: int) -> Opaque:
        return Opaque()


class OpaqueInterface(RestInterface[Product]):
    prefix = "/opaque"
    routes = (RestRoute(use_case=OpaqueUseCase, method="GET", path="/{id}"),)


def test_an_undescribable_type_becomes_any_value() -> None:
    doc = generate_openapi(
        [*compile_interfaces([OpaqueInterface]), route("GET", "/products/{id}")],
        title="t",
        version="1",
    )
    assert operation("GET", "/opaque/{id}", doc)["responses"]["200"]["content"] == {
        "application/json": {"schema": {}}
    }
    assert "Product" in doc["components"]["schemas"]


def test_the_document_validates_as_openapi_3_1() -> None:
    validator = pytest.importorskip("openapi_spec_validator")
    validator.validate(DOC)
    validator.validate(
        generate_openapi(ROUTES, title="t", version="1", settings=ListSettings(case="camel"))
    )
