"""The OpenAPI 3.1 document every runtime publishes for the same routes."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

import msgspec

from loom.core.http._case import to_camel
from loom.core.http._params import RequestBinder, request_binder
from loom.core.http._problem import PROBLEM_CONTENT_TYPE, ProblemDetails, problem_title
from loom.core.http._schemas import TypeSchemas
from loom.core.http._settings import MAX_PAGE, ListSettings
from loom.core.http._values import value_schema
from loom.core.interface import RouteSpec
from loom.core.model import unwrap_optional
from loom.core.repository.abc.query import FilterOp, PaginationMode
from loom.core.use_case import OnMissing

__all__ = ["OPENAPI_VERSION", "generate_openapi"]

OPENAPI_VERSION = "3.1.0"

_ERRORS: dict[int, tuple[str, str]] = {
    401: ("Unauthorized", "Missing or invalid credentials."),
    403: ("Forbidden", "The caller may not do this."),
    404: ("NotFound", "The entity does not exist."),
    409: (
        "Conflict",
        "The request conflicts with stored data, e.g. a unique value is taken; "
        "`errors` names the fields.",
    ),
    422: ("ValidationError", "Invalid parameters or body; `errors` lists every problem."),
    500: ("InternalError", "An unexpected error; the body carries a `trace_id` for the logs."),
}

_OP_TEXT: dict[FilterOp, str] = {
    FilterOp.EQ: "equals the value",
    FilterOp.NE: "differs from the value",
    FilterOp.GT: "is greater than the value",
    FilterOp.GTE: "is greater than or equal to the value",
    FilterOp.LT: "is less than the value",
    FilterOp.LTE: "is less than or equal to the value",
    FilterOp.IN: "is one of the comma-separated values",
    FilterOp.LIKE: "matches the pattern (`%` any text, `_` one character, `\\` escapes)",
    FilterOp.ILIKE: "matches the pattern, ignoring case (`%`, `_`, `\\` as for like)",
    FilterOp.IS_NULL: "is null (`true`) or is not null (`false`)",
}


def generate_openapi(
    routes: Sequence[RouteSpec],
    *,
    title: str,
    version: str,
    description: str = "",
    settings: ListSettings | None = None,
) -> dict[str, Any]:
    """Build the OpenAPI 3.1 document of ``routes`` (the ``RouteSpec``s of an app).

    Every route gets its operationId, summary, tags, parameters (path, plain query, and
    for list routes ``limit``, ``page``, ``cursor``, ``pagination``, ``sort`` and one
    ``field__op`` per operator that fits each column), request body, success response
    and its error responses, which all point at one ``ProblemDetails`` schema.

    Args:
        routes: The compiled routes (``compile_interfaces(...)``).
        title: ``info.title``.
        version: ``info.version`` (the API's, not OpenAPI's).
        description: ``info.description``.
        settings: The list settings the runtime binds requests with.

    Returns:
        The document as plain JSON-ready data.
    """
    settings = settings or ListSettings()
    binders = [request_binder(spec, settings) for spec in routes]
    schemas = TypeSchemas()
    schemas.add(ProblemDetails)
    for binder in binders:
        _register(binder, schemas)
    schemas.build()
    problem_ref = schemas.schema(ProblemDetails)
    paths: dict[str, dict[str, Any]] = {}
    used: set[int] = set()
    tags: dict[str, None] = {}
    for binder in binders:
        spec = binder.spec
        paths.setdefault(spec.path, {})[spec.method.lower()] = _operation(binder, schemas, used)
        tags.update(dict.fromkeys(spec.tags))
    info: dict[str, Any] = {"title": title, "version": version}
    if description:
        info["description"] = description
    responses = {
        _ERRORS[status][0]: {
            "description": _ERRORS[status][1],
            "content": {PROBLEM_CONTENT_TYPE: {"schema": problem_ref}},
        }
        for status in sorted(used)
    }
    document: dict[str, Any] = {"openapi": OPENAPI_VERSION, "info": info}
    if tags:
        document["tags"] = [{"name": tag} for tag in tags]
    document["paths"] = paths
    components = schemas.components
    if settings.case == "camel":
        components = {
            name: _camel_properties(schema) if name != "ProblemDetails" else schema
            for name, schema in components.items()
        }
    document["components"] = {"schemas": components, "responses": responses}
    return document


def _camel_properties(schema: dict[str, Any]) -> dict[str, Any]:
    """The same schema with its property names (and ``required``) in camelCase."""
    if "properties" not in schema:
        return schema
    renamed = dict(schema)
    renamed["properties"] = {to_camel(k): v for k, v in schema["properties"].items()}
    if "required" in schema:
        renamed["required"] = [to_camel(k) for k in schema["required"]]
    return renamed


def _register(binder: RequestBinder, schemas: TypeSchemas) -> None:
    spec = binder.spec
    if spec.body_type is not None:
        schemas.add(spec.body_type)
    if _has_content(spec.status_code, spec.response_type):
        schemas.add(spec.response_type)
    for tp in [p.type for p in spec.path_params] + [p.param.type for p in binder.plain_params]:
        if value_schema(unwrap_optional(tp)[0]) is None:
            schemas.add(tp)


def _has_content(status: int, response_type: Any) -> bool:
    return status != 204 and response_type is not None and response_type is not type(None)


def _param_schema(tp: Any, schemas: TypeSchemas) -> dict[str, Any]:
    found = value_schema(unwrap_optional(tp)[0])
    return found if found is not None else schemas.schema(tp)


def _operation(binder: RequestBinder, schemas: TypeSchemas, used: set[int]) -> dict[str, Any]:
    spec = binder.spec
    lines = [line.strip() for line in spec.summary.strip().splitlines()]
    operation: dict[str, Any] = {"operationId": spec.operation_id}
    if lines:
        operation["summary"] = lines[0]
    text = spec.description or "\n".join(lines[1:]).strip()
    if text:
        operation["description"] = text
    if spec.tags:
        operation["tags"] = list(spec.tags)
    parameters = _parameters(binder, schemas)
    if parameters:
        operation["parameters"] = parameters
    if spec.body_type is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": schemas.schema(spec.body_type)}},
        }
    success: dict[str, Any] = {"description": problem_title(spec.status_code)}
    if _has_content(spec.status_code, spec.response_type):
        success["content"] = {"application/json": {"schema": schemas.schema(spec.response_type)}}
    responses: dict[str, Any] = {str(spec.status_code): success}
    for status in _error_statuses(binder):
        used.add(status)
        responses[str(status)] = {"$ref": f"#/components/responses/{_ERRORS[status][0]}"}
    operation["responses"] = responses
    return operation


def _error_statuses(binder: RequestBinder) -> list[int]:
    spec, plan = binder.spec, binder.spec.plan
    statuses: list[int] = []
    if spec.auth is not None:
        statuses += [401, 403]
    raises = [s.on_missing for s in plan.loads] + [s.on_missing for s in plan.exists]
    if spec.path_params or OnMissing.RAISE in raises:
        statuses.append(404)
    if (
        spec.body_type is not None
        and not plan.read_only
        and spec.method in ("POST", "PUT", "PATCH")
    ):
        statuses.append(409)
    if spec.path_params or spec.query_params or spec.body_type is not None or spec.is_list:
        statuses.append(422)
    statuses.append(500)
    return statuses


def _parameters(binder: RequestBinder, schemas: TypeSchemas) -> list[dict[str, Any]]:
    spec = binder.spec
    params: list[dict[str, Any]] = [
        {"name": p.name, "in": "path", "required": True, "schema": _param_schema(p.type, schemas)}
        for p in spec.path_params
    ]
    for plain in binder.plain_params:
        schema = _param_schema(plain.param.type, schemas)
        if not plain.param.required:
            with contextlib.suppress(TypeError):
                schema["default"] = msgspec.to_builtins(plain.param.default)
        params.append(
            {"name": plain.name, "in": "query", "required": plain.param.required, "schema": schema}
        )
    if binder.is_list:
        params += _list_parameters(binder)
    return params


def _query(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
    }


def _list_parameters(binder: RequestBinder) -> list[dict[str, Any]]:
    settings, spec = binder.settings, binder.spec
    modes = [mode.value for mode in PaginationMode]
    params = [
        _query(
            "limit",
            f"Items per page, at most {settings.max_limit}.",
            {"type": "integer", "minimum": 1, "maximum": settings.max_limit,
             "default": settings.default_limit},
        ),
        _query(
            "page",
            "Page number, from 1 (offset pagination).",
            {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1},
        ),
        _query(
            "cursor",
            "The `next_cursor` of the previous page (cursor pagination; implies it).",
            {"type": "string"},
        ),
        _query(
            "pagination",
            "How a first page is paged; a `cursor` always means cursor pagination.",
            {"type": "string", "enum": modes, "default": spec.pagination_mode.value},
        ),
        _query(
            "sort",
            "Comma-separated fields to sort on, `-` for descending (e.g. `-a,b`). "
            f"Sortable: {', '.join(binder.sortable) or 'none'}.",
            {"type": "string"},
        ),
    ]  # fmt: skip
    for item in binder.filters:
        value = value_schema(item.python_type) or {}
        if item.op is FilterOp.IS_NULL:
            schema: dict[str, Any] = {"type": "boolean"}
        elif item.op is FilterOp.IN:
            schema = {"type": "array", "items": value, "minItems": 1}
        else:
            schema = value
        param = _query(item.name, f"Only items whose {item.field} {_OP_TEXT[item.op]}.", schema)
        if item.op is FilterOp.IN:
            param.update(style="form", explode=False)
        params.append(param)
    return params
