"""The loom error family: codes, HTTP statuses, aggregated errors, missing extras."""

from __future__ import annotations

import re

import pytest

from loom.core import errors
from loom.core.errors import (
    HTTP_STATUS,
    CompilationError,
    ConfigurationError,
    Conflict,
    FieldError,
    Forbidden,
    InternalError,
    LoomError,
    MethodNotAllowed,
    MissingDependencyError,
    NotFound,
    PayloadTooLarge,
    RuleViolation,
    RuleViolations,
    ServiceUnavailable,
    Unauthorized,
    UnsupportedMediaType,
    ValidationError,
    http_status_for,
)
from loom.core.extras import import_extra

EXPECTED: list[tuple[LoomError, str, int]] = [
    (LoomError("x"), "loom_error", 500),
    (ConfigurationError("x"), "configuration_error", 500),
    (CompilationError("x"), "compilation_error", 500),
    (MissingDependencyError("m", distribution="loom-rest", extra="e"), "missing_dependency", 500),
    (NotFound("x"), "not_found", 404),
    (Conflict("x"), "conflict", 409),
    (Unauthorized("x"), "unauthorized", 401),
    (Forbidden("x"), "forbidden", 403),
    (ValidationError("x"), "validation_error", 422),
    (RuleViolation("x"), "rule_violation", 422),
    (RuleViolations([RuleViolation("x")]), "rule_violations", 422),
    (MethodNotAllowed("x"), "method_not_allowed", 405),
    (PayloadTooLarge("x"), "payload_too_large", 413),
    (UnsupportedMediaType("x"), "unsupported_media_type", 415),
    (ServiceUnavailable("x"), "service_unavailable", 503),
    (InternalError("x"), "internal_error", 500),
]


@pytest.mark.parametrize(
    ("error", "code", "status"), EXPECTED, ids=[type(e).__name__ for e, _, _ in EXPECTED]
)
def test_each_error_has_its_code_and_status(error: LoomError, code: str, status: int) -> None:
    assert isinstance(error, LoomError)
    assert error.code == code
    assert type(error).code == code
    assert http_status_for(error) == status


def test_every_exported_error_class_is_covered_and_codes_are_unique_snake_case() -> None:
    exported = {
        obj
        for name in errors.__all__
        if isinstance(obj := getattr(errors, name), type) and issubclass(obj, LoomError)
    }
    covered = {type(error) for error, _, _ in EXPECTED}
    assert exported == covered
    codes = [cls.code for cls in exported]
    assert len(codes) == len(set(codes))
    assert all(re.fullmatch(r"[a-z]+(_[a-z]+)*", code) for code in codes)


def test_http_status_mapping_only_holds_loom_errors() -> None:
    assert all(issubclass(cls, LoomError) for cls in HTTP_STATUS)
    assert HTTP_STATUS[LoomError] == 500


class StoreDown(ServiceUnavailable):
    code = "store_down"


class UserNotFound(NotFound):
    pass


class EmailTaken(Conflict):
    pass


class PriceTooLow(RuleViolation):
    pass


class LintFailed(CompilationError):
    pass


class TakenAndMissing(Conflict, NotFound):
    """Multiple inheritance: the first base in the MRO decides."""


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (StoreDown("database down"), 503),
        (UserNotFound(entity="User", id=1), 404),
        (EmailTaken(fields=["email"]), 409),
        (PriceTooLow("too low", field="price"), 422),
        (LintFailed("bad"), 500),
        (TakenAndMissing("both"), 409),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, BaseException) else str(v),
)
def test_subclasses_defined_elsewhere_inherit_their_parents_status(
    error: LoomError, status: int
) -> None:
    assert http_status_for(error) == status


def test_subclass_keeps_its_own_code_and_falls_back_to_it_as_message() -> None:
    assert StoreDown().code == "store_down"
    assert StoreDown.__doc__ is None
    assert str(StoreDown()) == "store_down"
    assert http_status_for(StoreDown()) == 503


@pytest.mark.parametrize(
    "error",
    [ValueError("x"), KeyError("k"), RuntimeError(), KeyboardInterrupt(), ImportError("m")],
    ids=lambda e: type(e).__name__,
)
def test_non_loom_exceptions_map_to_500(error: BaseException) -> None:
    assert http_status_for(error) == 500


def test_message_is_str_and_default_message_is_not_empty() -> None:
    assert str(Forbidden("no access")) == "no access"
    assert Forbidden("no access").message == "no access"
    assert str(Unauthorized()) != ""
    assert str(InternalError()) != ""


def test_not_found_builds_its_message_from_entity_and_id() -> None:
    assert str(NotFound(entity="User", id=42)) == "User 42 not found"
    assert str(NotFound(entity="User", id="ab")) == "User 'ab' not found"
    assert str(NotFound(entity="User")) == "User not found"
    assert str(NotFound()) == "not found"
    error = NotFound("gone", entity="User", id=1)
    assert (str(error), error.entity, error.id) == ("gone", "User", 1)


def test_conflict_names_the_fields() -> None:
    error = Conflict(fields=["email", "tenant"])
    assert error.fields == ("email", "tenant")
    assert str(error) == "a record with this email, tenant already exists"
    assert str(Conflict()) == "conflict"


def test_configuration_error_prefixes_source_and_key() -> None:
    error = ConfigurationError("unknown key", source="api.yaml", key="app.rest.titel")
    assert str(error) == "api.yaml: app.rest.titel: unknown key"
    assert (error.source, error.key) == ("api.yaml", "app.rest.titel")
    assert str(ConfigurationError("plain")) == "plain"
    assert str(ConfigurationError("m", key="a.b")) == "a.b: m"


def test_field_error_to_dict() -> None:
    assert FieldError("address.zip_code", "too short").to_dict() == {
        "field": "address.zip_code",
        "message": "too short",
    }


def test_validation_error_lists_every_field_error() -> None:
    problems = [
        FieldError("name", "required"),
        FieldError("address.zip_code", "too short"),
        FieldError("", "payload too large"),
    ]
    error = ValidationError(errors=problems)
    assert error.errors == tuple(problems)
    assert str(error) == "name: required; address.zip_code: too short; payload too large"
    assert [e.to_dict() for e in error.errors] == [
        {"field": "name", "message": "required"},
        {"field": "address.zip_code", "message": "too short"},
        {"field": "", "message": "payload too large"},
    ]


def test_validation_error_explicit_message_and_empty_default() -> None:
    error = ValidationError("bad input", errors=[FieldError("a", "b")])
    assert str(error) == "bad input"
    assert error.errors == (FieldError("a", "b"),)
    assert str(ValidationError()) == "validation failed"
    assert ValidationError().errors == ()


def test_rule_violation_becomes_a_field_error() -> None:
    violation = RuleViolation("must be positive", field="price")
    assert violation.field == "price"
    assert violation.to_field_error() == FieldError("price", "must be positive")
    assert RuleViolation("no stock").to_field_error() == FieldError("", "no stock")


def test_rule_violations_aggregate_every_violation() -> None:
    violations = [
        RuleViolation("must be positive", field="price"),
        RuleViolation("must be in the future", field="ships_at"),
        RuleViolation("the order is closed"),
    ]
    error = RuleViolations(iter(violations))
    assert isinstance(error, ValidationError)
    assert error.violations == tuple(violations)
    assert error.errors == (
        FieldError("price", "must be positive"),
        FieldError("ships_at", "must be in the future"),
        FieldError("", "the order is closed"),
    )
    assert str(error) == (
        "price: must be positive; ships_at: must be in the future; the order is closed"
    )
    with pytest.raises(ValidationError) as caught:
        raise error
    assert caught.value.code == "rule_violations"
    assert http_status_for(caught.value) == 422


def test_missing_dependency_error_is_a_loom_error_and_an_import_error() -> None:
    error = MissingDependencyError("litestar", distribution="loom-rest", extra="litestar")
    assert isinstance(error, LoomError)
    assert isinstance(error, ImportError)
    assert (error.module, error.distribution, error.extra) == ("litestar", "loom-rest", "litestar")
    assert "'litestar' is not installed" in str(error)
    assert "pip install 'loom-rest[litestar]'" in str(error)
    with pytest.raises(ImportError, match=r"loom-rest\[litestar\]"):
        raise error


def test_import_extra_returns_an_installed_module() -> None:
    module = import_extra("json", distribution="loom-core", extra="unused")
    assert module.__name__ == "json"
    assert callable(module.dumps)


def test_import_extra_raises_missing_dependency_naming_the_extra() -> None:
    missing = "loom_test_surely_not_installed_module"
    with pytest.raises(MissingDependencyError) as caught:
        import_extra(missing, distribution="loom-etl", extra="delta")
    error = caught.value
    assert (error.module, error.distribution, error.extra) == (missing, "loom-etl", "delta")
    assert "pip install 'loom-etl[delta]'" in str(error)
    assert isinstance(error.__cause__, ModuleNotFoundError)


def test_import_extra_missing_submodule_is_caught_by_plain_except_import_error() -> None:
    with pytest.raises(ImportError) as caught:
        import_extra("json.loom_no_such_submodule", distribution="loom-rest", extra="starlette")
    assert isinstance(caught.value, MissingDependencyError)
    assert "loom-rest[starlette]" in str(caught.value)


def test_errors_survive_pickling() -> None:
    import pickle

    missing = pickle.loads(pickle.dumps(MissingDependencyError("m", distribution="d", extra="e")))
    assert (missing.module, missing.extra, str(missing)) == (
        "m",
        "e",
        str(MissingDependencyError("m", distribution="d", extra="e")),
    )
    violations = pickle.loads(pickle.dumps(RuleViolations([RuleViolation("x", field="f")])))
    assert violations.errors[0].field == "f"
    assert violations.violations[0].message == "x"
