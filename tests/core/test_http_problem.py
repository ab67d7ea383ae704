"""``loom.core.http.problem_details``: every exception becomes one RFC 9457 body."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from http import HTTPStatus
from typing import Any

import msgspec
import pytest
from opentelemetry import trace
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags
from tests.core.http_fixtures import route

from loom.core.errors import (
    CompilationError,
    Conflict,
    FieldError,
    Forbidden,
    InternalError,
    NotFound,
    RuleViolation,
    RuleViolations,
    ServiceUnavailable,
    Unauthorized,
    ValidationError,
)
from loom.core.http import (
    PROBLEM_CONTENT_TYPE,
    PROBLEM_TYPE_BASE,
    ListSettings,
    ProblemDetails,
    bind_request,
    new_trace_id,
    problem_details,
    problem_title,
)
from loom.core.logging import logger

TRACE = "0af7651916cd43dd8448eb211c80319c"
HEX32 = re.compile(r"[0-9a-f]{32}")


@pytest.fixture
def log_lines() -> Iterator[list[str]]:
    lines: list[str] = []
    sink = logger.add(lambda message: lines.append(str(message)), level="DEBUG", format="{message}")
    yield lines
    logger.remove(sink)


def problem(error: BaseException, **kwargs: Any) -> tuple[int, dict[str, Any]]:
    status, body = problem_details(error, trace_id=kwargs.pop("trace_id", TRACE), **kwargs)
    msgspec.convert(body, ProblemDetails)  # the body always fits the published schema
    return status, body


def test_the_content_type_is_problem_json() -> None:
    assert PROBLEM_CONTENT_TYPE == "application/problem+json"


@pytest.mark.parametrize(
    ("error", "status", "code", "title"),
    [
        (NotFound(entity="Product", id=7), 404, "not_found", "Not Found"),
        (Conflict(fields=("email",)), 409, "conflict", "Conflict"),
        (Unauthorized("log in first"), 401, "unauthorized", "Unauthorized"),
        (Forbidden("staff only"), 403, "forbidden", "Forbidden"),
        (ValidationError(errors=[FieldError("a", "bad")]), 422, "validation_error", None),
        (RuleViolations([RuleViolation("no", field="x")]), 422, "rule_violations", None),
        (RuleViolation("stock must be positive", field="stock"), 422, "rule_violation", None),
        (ServiceUnavailable("db down"), 503, "service_unavailable", "Service Unavailable"),
        (InternalError("oops"), 500, "internal_error", "Internal Server Error"),
        (CompilationError("bad declaration"), 500, "compilation_error", None),
        (RuntimeError("boom"), 500, "internal_error", "Internal Server Error"),
        (KeyError("k"), 500, "internal_error", None),
    ],
)
def test_each_error_class_maps_to_its_status_and_code(
    error: BaseException, status: int, code: str, title: str | None
) -> None:
    got_status, body = problem(error)
    assert got_status == status == body["status"]
    assert body["code"] == code
    assert body["type"] == f"{PROBLEM_TYPE_BASE}{code}"
    assert body["type"].startswith("https://")
    assert body["title"] == (title or problem_title(status))
    assert body["trace_id"] == TRACE
    assert isinstance(body["detail"], str)
    assert body["detail"]


def test_a_client_error_keeps_its_message_as_detail() -> None:
    status, body = problem(NotFound(entity="Product", id=7), instance="/products/7")
    assert status == 404
    assert body == {
        "type": "https://loom.dev/problems/not_found",
        "title": "Not Found",
        "status": 404,
        "detail": "Product 7 not found",
        "code": "not_found",
        "trace_id": TRACE,
        "instance": "/products/7",
    }


def test_validation_errors_list_every_field() -> None:
    error = ValidationError(errors=[FieldError("email", "required"), FieldError("age", "int")])
    status, body = problem(error)
    assert status == 422
    assert body["title"] == "Unprocessable Content"
    assert body["errors"] == [
        {"field": "email", "message": "required"},
        {"field": "age", "message": "int"},
    ]


def test_rule_violations_list_every_rule() -> None:
    error = RuleViolations(
        [RuleViolation("must not be blank", field="full_name"), RuleViolation("taken", field="")]
    )
    _, body = problem(error)
    assert body["code"] == "rule_violations"
    assert body["errors"] == [
        {"field": "full_name", "message": "must not be blank"},
        {"field": "", "message": "taken"},
    ]


def test_a_single_rule_violation_is_listed() -> None:
    _, body = problem(RuleViolation("too many", field="stock"))
    assert body["errors"] == [{"field": "stock", "message": "too many"}]


def test_a_conflict_names_its_fields() -> None:
    status, body = problem(Conflict(fields=("email", "sku")))
    assert status == 409
    assert [e["field"] for e in body["errors"]] == ["email", "sku"]
    assert "email" in body["detail"]
    _, bare = problem(Conflict("version mismatch"))
    assert "errors" not in bare
    assert bare["detail"] == "version mismatch"


def test_other_client_errors_carry_no_errors_member() -> None:
    for error in (NotFound(), Unauthorized(), Forbidden()):
        assert "errors" not in problem(error)[1]


def test_a_bind_request_failure_becomes_a_422_naming_each_parameter() -> None:
    with pytest.raises(ValidationError) as caught:
        bind_request(
            route("GET", "/products"),
            {},
            [("limit", "9000"), ("price_cents__gt", "x"), ("bogus", "1")],
            settings=ListSettings(),
        )
    status, body = problem(caught.value)
    assert status == 422
    assert [e["field"] for e in body["errors"]] == ["limit", "price_cents__gt", "bogus"]


def _raise(error: BaseException) -> BaseException:
    try:
        raise error
    except BaseException as exc:  # noqa: BLE001 - the test wants the raised instance
        return exc


def test_an_unexpected_error_never_leaks_its_text(log_lines: list[str]) -> None:
    error = _raise(RuntimeError("SELECT * FROM secret WHERE password = 'hunter2'"))
    status, body = problem(error, instance="/products")
    text = json.dumps(body)
    assert status == 500
    assert body["code"] == "internal_error"
    assert body["detail"] == "An unexpected error occurred; quote the trace_id when reporting it."
    for leak in ("SELECT", "secret", "hunter2", "RuntimeError", "Traceback", "test_http"):
        assert leak not in text
    assert "errors" not in body
    logged = "\n".join(log_lines)
    assert TRACE in logged
    assert "SELECT * FROM secret" in logged
    assert "Traceback" in logged


def test_server_side_loom_errors_are_generic_too(log_lines: list[str]) -> None:
    _, unavailable = problem(ServiceUnavailable("postgresql://app:pw@db:5432 refused"))
    assert "pw@db" not in json.dumps(unavailable)
    assert "try again later" in unavailable["detail"]
    _, internal = problem(InternalError("driver said: relation users does not exist"))
    assert "relation" not in json.dumps(internal)
    assert any("pw@db" in line for line in log_lines)


def test_client_errors_are_not_logged_as_errors(log_lines: list[str]) -> None:
    problem(NotFound(entity="Product", id=1))
    assert log_lines == []


def test_a_missing_trace_id_gets_a_new_one(log_lines: list[str]) -> None:
    _, body = problem_details(RuntimeError("x"), trace_id=None)
    assert HEX32.fullmatch(body["trace_id"])
    assert body["trace_id"] in "\n".join(log_lines)


def test_new_trace_id_is_32_hex_and_random() -> None:
    first, second = new_trace_id(), new_trace_id()
    assert HEX32.fullmatch(first)
    assert HEX32.fullmatch(second)
    assert first != second


def test_new_trace_id_uses_the_active_span() -> None:
    context = SpanContext(
        trace_id=int(TRACE, 16),
        span_id=0x00F067AA0BA902B7,
        is_remote=False,
        trace_flags=TraceFlags(TraceFlags.SAMPLED),
    )
    with trace.use_span(NonRecordingSpan(context)):
        assert new_trace_id() == TRACE
        assert problem_details(NotFound(), trace_id=None)[1]["trace_id"] == TRACE


def test_a_subclass_from_another_distribution_keeps_its_code() -> None:
    class MissingRow(NotFound):
        code = "row_missing"

    status, body = problem(MissingRow("row 3 is gone"))
    assert (status, body["code"], body["type"]) == (
        404,
        "row_missing",
        PROBLEM_TYPE_BASE + "row_missing",
    )
    assert body["detail"] == "row 3 is gone"


def test_every_status_has_a_title() -> None:
    assert problem_title(422) == "Unprocessable Content"
    assert problem_title(418) == HTTPStatus(418).phrase
    assert problem_title(599) == "Error"
