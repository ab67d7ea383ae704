"""``loom.core.http.bind_request``: path, plain and list query parameters, every runtime alike."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from uuid import UUID

import msgspec
import pytest
from tests.core.http_fixtures import Product, ProductStatus, route

from loom.core.errors import CompilationError, ConfigurationError, FieldError, ValidationError
from loom.core.http import (
    LIST_PARAMS,
    ListSettings,
    bind_request,
    request_binder,
    to_camel,
    to_snake,
)
from loom.core.interface import RestInterface, RestRoute, RouteSpec, compile_interfaces
from loom.core.repository.abc.query import (
    FilterGroup,
    FilterOp,
    FilterSpec,
    PaginationMode,
    QuerySpec,
    SortSpec,
    validate_query,
)
from loom.core.use_case.use_case import UseCase

SNAKE = ListSettings()
CAMEL = ListSettings(case="camel")
PRODUCTS = route("GET", "/products")
USERS = route("GET", "/users")
CATEGORY = route("GET", "/products/categories/{category}")


def bind(
    spec: RouteSpec,
    query: Sequence[tuple[str, str]] | Mapping[str, Any] = (),
    path: Mapping[str, str] | None = None,
    settings: ListSettings = SNAKE,
) -> dict[str, Any]:
    return bind_request(spec, path or {}, query, settings=settings)


def problems(
    spec: RouteSpec,
    query: Sequence[tuple[str, str]] | Mapping[str, Any] = (),
    path: Mapping[str, str] | None = None,
    settings: ListSettings = SNAKE,
) -> list[FieldError]:
    with pytest.raises(ValidationError) as caught:
        bind(spec, query, path, settings)
    assert caught.value.code == "validation_error"
    return list(caught.value.errors)


def only_filter(query: QuerySpec) -> FilterSpec:
    assert query.filters is not None
    (item,) = query.filters.filters
    assert isinstance(item, FilterSpec)
    return item


# --- path and plain query parameters ---------------------------------------------------


def test_path_params_are_converted_by_their_type() -> None:
    spec = route("GET", "/users/{user_id}/addresses/{address_id}")
    assert bind(spec, path={"user_id": "3", "address_id": "41"}) == {
        "user_id": 3,
        "address_id": 41,
    }


def test_bad_and_missing_path_params_are_all_named() -> None:
    spec = route("GET", "/users/{user_id}/addresses/{address_id}")
    errors = problems(spec, path={"address_id": "abc"})
    assert [e.field for e in errors] == ["user_id", "address_id"]
    assert "missing" in errors[0].message
    assert "integer" in errors[1].message


def test_plain_query_params_are_converted() -> None:
    spec = route("GET", "/products/low-stock")
    assert bind(spec, [("threshold", "3"), ("profile", "detail")]) == {
        "threshold": 3,
        "profile": "detail",
    }
    assert bind(spec) == {}


def test_a_bad_plain_param_is_named() -> None:
    errors = problems(route("GET", "/products/low-stock"), [("threshold", "few")])
    assert [(e.field, "integer" in e.message) for e in errors] == [("threshold", True)]


def test_a_missing_required_query_param_is_named() -> None:
    spec = route("GET", "/users/by-email")
    assert bind(spec, [("email", "a@b.c")]) == {"email": "a@b.c"}
    errors = problems(spec, [])
    assert [(e.field, e.message) for e in errors] == [
        ("email", "required query parameter is missing")
    ]


def test_a_non_list_route_takes_no_list_params() -> None:
    errors = problems(route("GET", "/products/low-stock"), [("limit", "5"), ("stock__lt", "3")])
    assert [e.field for e in errors] == ["limit", "stock__lt"]
    assert all(e.message.startswith("unknown query parameter") for e in errors)


def test_a_route_without_params_rejects_any_query_param() -> None:
    errors = problems(route("POST", "/users"), [("debug", "1")])
    assert [(e.field, e.message) for e in errors] == [("debug", "unknown query parameter")]


# --- list parameters ------------------------------------------------------------------


def test_list_defaults_follow_settings_and_the_interface_mode() -> None:
    query = bind(USERS)["query"]
    assert query == QuerySpec(limit=50, page=1, pagination=PaginationMode.OFFSET)
    products = bind(PRODUCTS, settings=ListSettings(default_limit=20))["query"]
    assert products.limit == 20
    assert products.mode is PaginationMode.CURSOR
    assert products.filters is None
    assert products.sort == ()


def test_the_query_spec_goes_under_the_plans_query_parameter() -> None:
    params = bind(CATEGORY, [("in_stock_only", "true")], path={"category": "tools"})
    assert set(params) == {"category", "in_stock_only", CATEGORY.plan.query_param}
    assert params["category"] == "tools"
    assert params["in_stock_only"] is True
    assert isinstance(params["query"], QuerySpec)


@pytest.mark.parametrize(("raw", "limit"), [("1", 1), ("25", 25), ("500", 500)])
def test_limit_within_the_cap(raw: str, limit: int) -> None:
    assert bind(USERS, [("limit", raw)])["query"].limit == limit


@pytest.mark.parametrize("raw", ["501", "0", "-1", "ten", "", "1e2", "99999999999"])
def test_limit_outside_the_cap_is_422(raw: str) -> None:
    errors = problems(USERS, [("limit", raw)])
    assert [(e.field, e.message) for e in errors] == [("limit", "must be an integer from 1 to 500")]


def test_a_lower_configured_cap_is_enforced() -> None:
    settings = ListSettings(max_limit=100, default_limit=10)
    assert bind(USERS, [("limit", "100")], settings=settings)["query"].limit == 100
    errors = problems(USERS, [("limit", "101")], settings=settings)
    assert errors == [FieldError("limit", "must be an integer from 1 to 100")]


def test_page_selects_an_offset_page() -> None:
    query = bind(USERS, [("page", "3"), ("limit", "10")])["query"]
    assert (query.page, query.limit, query.offset, query.mode) == (3, 10, 20, PaginationMode.OFFSET)
    assert [e.field for e in problems(USERS, [("page", "0")])] == ["page"]


@pytest.mark.parametrize(
    ("spec", "query", "mode", "cursor"),
    [
        (PRODUCTS, [], PaginationMode.CURSOR, None),
        (USERS, [], PaginationMode.OFFSET, None),
        (USERS, [("pagination", "cursor")], PaginationMode.CURSOR, None),
        (PRODUCTS, [("pagination", "offset")], PaginationMode.OFFSET, None),
        (USERS, [("cursor", "opaque-token")], PaginationMode.CURSOR, "opaque-token"),
        (PRODUCTS, [("cursor", "t"), ("pagination", "cursor")], PaginationMode.CURSOR, "t"),
    ],
)
def test_pagination_mode_selection(
    spec: RouteSpec, query: list[tuple[str, str]], mode: PaginationMode, cursor: str | None
) -> None:
    bound = bind(spec, query)["query"]
    assert bound.mode is mode
    assert bound.pagination is mode
    assert bound.cursor == cursor


def test_contradicting_pagination_params_are_422() -> None:
    errors = problems(USERS, [("cursor", "t"), ("pagination", "offset"), ("page", "2")])
    assert [e.field for e in errors] == ["pagination", "page"]
    assert [e.field for e in problems(PRODUCTS, [("page", "2")])] == ["page"]
    assert [e.field for e in problems(USERS, [("pagination", "keyset")])] == ["pagination"]
    assert [e.field for e in problems(USERS, [("cursor", "")])] == ["cursor"]


def test_sort_parses_fields_and_directions() -> None:
    query = bind(PRODUCTS, [("sort", "-price_cents,id")])["query"]
    assert query.sort == (
        SortSpec(field="price_cents", direction="DESC"),
        SortSpec(field="id", direction="ASC"),
    )
    validate_query(query, Product)


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("-nope", "cannot sort on 'nope'"),
        ("id,-id", "'id' is named more than once"),
        ("attributes", "cannot sort on 'attributes'"),
        ("", "cannot sort on ''"),
        ("id;DROP TABLE x", "cannot sort on 'id;DROP TABLE x'"),
    ],
)
def test_bad_sorts_are_422(raw: str, fragment: str) -> None:
    (error,) = problems(PRODUCTS, [("sort", raw)])
    assert error.field == "sort"
    assert fragment in error.message


# --- filters ------------------------------------------------------------------------

AWARE = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("param", "raw", "field", "op", "value"),
    [
        ("price_cents__eq", "500", "price_cents", FilterOp.EQ, 500),
        ("price_cents__ne", "-3", "price_cents", FilterOp.NE, -3),
        ("price_cents__gt", "+7", "price_cents", FilterOp.GT, 7),
        ("stock__gte", "0", "stock", FilterOp.GTE, 0),
        ("stock__lt", "10", "stock", FilterOp.LT, 10),
        ("stock__lte", "5", "stock", FilterOp.LTE, 5),
        ("id__in", "1,2,3", "id", FilterOp.IN, (1, 2, 3)),
        ("weight_kg__gte", "1.5", "weight_kg", FilterOp.GTE, 1.5),
        ("weight_kg__lt", "2e3", "weight_kg", FilterOp.LT, 2000.0),
        ("weight_kg__is_null", "true", "weight_kg", FilterOp.IS_NULL, True),
        ("weight_kg__is_null", "False", "weight_kg", FilterOp.IS_NULL, False),
        ("unit_price__lte", "12.50", "unit_price", FilterOp.LTE, Decimal("12.50")),
        ("active__eq", "true", "active", FilterOp.EQ, True),
        ("active__ne", "FALSE", "active", FilterOp.NE, False),
        ("name__eq", "Widget", "name", FilterOp.EQ, "Widget"),
        ("name__eq", "", "name", FilterOp.EQ, ""),
        ("name__like", "Wid%", "name", FilterOp.LIKE, "Wid%"),
        ("name__ilike", "%gad\\_et%", "name", FilterOp.ILIKE, "%gad\\_et%"),
        ("sku__in", "a-1,b-2", "sku", FilterOp.IN, ("a-1", "b-2")),
        ("category__gt", "m", "category", FilterOp.GT, "m"),
        ("status__eq", "active", "status", FilterOp.EQ, ProductStatus.ACTIVE),
        (
            "status__in",
            "draft,retired",
            "status",
            FilterOp.IN,
            (ProductStatus.DRAFT, ProductStatus.RETIRED),
        ),
        ("released_on__gte", "2024-05-01", "released_on", FilterOp.GTE, date(2024, 5, 1)),
        ("restocked_at__gt", "2024-05-01T12:00:00Z", "restocked_at", FilterOp.GT, AWARE),
        (
            "restocked_at__lt",
            "2024-05-01T14:00:00+02:00",
            "restocked_at",
            FilterOp.LT,
            datetime(2024, 5, 1, 14, 0, tzinfo=timezone(timedelta(hours=2))),
        ),
        ("created_at__gte", "2024-05-01T12:00:00+00:00", "created_at", FilterOp.GTE, AWARE),
        (
            "external_id__eq",
            "12345678-1234-5678-1234-567812345678",
            "external_id",
            FilterOp.EQ,
            UUID("12345678-1234-5678-1234-567812345678"),
        ),
        ("attributes__is_null", "true", "attributes", FilterOp.IS_NULL, True),
    ],
)
def test_every_operator_parses_by_the_column_type(
    param: str, raw: str, field: str, op: FilterOp, value: Any
) -> None:
    query = bind(PRODUCTS, [(param, raw)])["query"]
    item = only_filter(query)
    assert (item.field, item.op, item.value) == (field, op, value)
    assert type(item.value) is type(value)
    validate_query(query, Product)


@pytest.mark.parametrize(
    ("param", "raw", "fragment"),
    [
        ("price_cents__gt", "abc", "must be an integer"),
        ("price_cents__gt", "1.5", "must be an integer"),
        ("price_cents__gt", "1_000", "must be an integer"),
        ("price_cents__gt", "99999999999999999999", "64-bit"),
        ("price_cents__gt", "\uff11", "must be an integer"),
        ("weight_kg__gt", "nan", "finite number"),
        ("weight_kg__gt", "1e999", "finite number"),
        ("unit_price__gt", "1e5", "decimal number"),
        ("active__eq", "yes", "true or false"),
        ("status__eq", "archived", "one of: draft, active, retired"),
        ("released_on__gt", "2024-13-01", "ISO 8601 date"),
        ("restocked_at__gt", "2024-05-01T12:00:00", "must carry a timezone"),
        ("restocked_at__gt", "yesterday", "timezone-aware ISO 8601 datetime"),
        ("restocked_at__gt", "2024-05-01T12:00:00 02:00", "%2B"),
        ("external_id__eq", "not-a-uuid", "must be a UUID"),
        ("weight_kg__is_null", "maybe", "true or false"),
        ("id__in", "1,x,3", "item 2 ('x') must be an integer"),
        ("id__in", "", "comma-separated list"),
        ("name__like", "abc\\", "escape"),
        ("name__eq", "a\x00b", "NUL"),
    ],
)
def test_unparsable_values_are_422_naming_the_parameter(
    param: str, raw: str, fragment: str
) -> None:
    (error,) = problems(PRODUCTS, [(param, raw)])
    assert error.field == param
    assert fragment in error.message


@pytest.mark.parametrize(
    "param",
    [
        "price_cents__like",
        "active__gt",
        "active__in",
        "status__gt",
        "external_id__lt",
        "price_cents__is_null",
        "attributes__eq",
    ],
)
def test_operators_that_do_not_fit_the_type_are_422(param: str) -> None:
    (error,) = problems(PRODUCTS, [(param, "1")])
    assert error.field == param
    assert "does not apply to" in error.message


def test_unknown_fields_and_operators_are_422_with_a_hint() -> None:
    errors = problems(
        PRODUCTS,
        [("nope__eq", "1"), ("price_cents__zz", "1"), ("category", "x"), ("profil", "a")],
    )
    by_field = {e.field: e.message for e in errors}
    assert list(by_field) == ["nope__eq", "price_cents__zz", "category", "profil"]
    assert by_field["nope__eq"].startswith("unknown field 'nope'")
    assert "price_cents" in by_field["nope__eq"]
    assert by_field["price_cents__zz"].startswith("unknown operator 'zz'")
    assert "category__eq" in by_field["category"]
    assert "did you mean 'profile'" in by_field["profil"]


def test_every_problem_is_listed_in_one_error() -> None:
    errors = problems(
        PRODUCTS,
        [
            ("limit", "1000"),
            ("price_cents__gt", "cheap"),
            ("sort", "-ghost"),
            ("colour__eq", "red"),
            ("status__in", "draft,bad"),
            ("limit", "5"),
        ],
    )
    assert [e.field for e in errors] == [
        "limit",
        "price_cents__gt",
        "sort",
        "colour__eq",
        "status__in",
        "limit",
    ]
    assert "more than once" in errors[-1].message


def test_repeated_single_valued_params_are_422() -> None:
    errors = problems(PRODUCTS, [("price_cents__gt", "1"), ("price_cents__gt", "2")])
    assert errors == [FieldError("price_cents__gt", "given more than once; send it once")]


def test_several_filters_are_anded_in_one_group() -> None:
    query = bind(
        PRODUCTS,
        [("price_cents__gte", "100"), ("price_cents__lt", "900"), ("category__eq", "tools")],
    )["query"]
    assert query.filters == FilterGroup(
        op="AND",
        filters=(
            FilterSpec(field="price_cents", op=FilterOp.GTE, value=100),
            FilterSpec(field="price_cents", op=FilterOp.LT, value=900),
            FilterSpec(field="category", op=FilterOp.EQ, value="tools"),
        ),
    )


def test_sql_looking_values_stay_data() -> None:
    payload = "'; DROP TABLE x; --"
    query = bind(PRODUCTS, [("name__eq", payload), ("sku__in", "a',b--")])["query"]
    assert query.filters is not None
    assert [f.value for f in query.filters.filters if isinstance(f, FilterSpec)] == [
        payload,
        ("a'", "b--"),
    ]
    (error,) = problems(PRODUCTS, [("name) OR 1=1 --__eq", "x")])
    assert error.field == "name) OR 1=1 --__eq"
    assert error.message.startswith("unknown field")


# --- query-string shapes, camelCase, settings and caching --------------------------------


def test_query_may_be_a_mapping_of_values_or_of_lists() -> None:
    single = bind(PRODUCTS, {"limit": "5", "stock__lt": "3"})["query"]
    assert (single.limit, only_filter(single).value) == (5, 3)
    listed = bind(PRODUCTS, {"limit": ["5"], "sort": ["-id"]})["query"]
    assert listed.sort == (SortSpec(field="id", direction="DESC"),)
    assert [e.field for e in problems(PRODUCTS, {"limit": ["5", "6"]})] == ["limit"]


def test_a_multi_dict_with_multi_items_keeps_repeats() -> None:
    class MultiDict(dict[str, str]):
        def multi_items(self) -> list[tuple[str, str]]:
            return [("limit", "5"), ("limit", "6")]

    assert [e.field for e in problems(PRODUCTS, MultiDict(limit="6"))] == ["limit"]


def test_camel_case_names_map_to_columns_and_params() -> None:
    params = bind(
        CATEGORY,
        [("priceCents__gt", "5"), ("sort", "-priceCents,id"), ("inStockOnly", "true")],
        path={"category": "tools"},
        settings=CAMEL,
    )
    query = params["query"]
    assert only_filter(query) == FilterSpec(field="price_cents", op=FilterOp.GT, value=5)
    assert query.sort[0] == SortSpec(field="price_cents", direction="DESC")
    assert params["in_stock_only"] is True


def test_camel_case_accepts_snake_case_but_not_both() -> None:
    query = bind(PRODUCTS, [("price_cents__gt", "5")], settings=CAMEL)["query"]
    assert only_filter(query).field == "price_cents"
    errors = problems(PRODUCTS, [("priceCents__gt", "5"), ("price_cents__gt", "6")], settings=CAMEL)
    assert [e.field for e in errors] == ["price_cents__gt"]


def test_camel_case_errors_name_the_parameter_as_sent() -> None:
    errors = problems(PRODUCTS, [("priceCents__gt", "x"), ("unitPrice__like", "1")], settings=CAMEL)
    assert [e.field for e in errors] == ["priceCents__gt", "unitPrice__like"]
    assert "unitPrice" in errors[1].message


def test_snake_mode_does_not_accept_camel_case() -> None:
    (error,) = problems(PRODUCTS, [("priceCents__gt", "5")])
    assert error.field == "priceCents__gt"
    assert error.message.startswith("unknown field")


def test_the_binder_is_built_once_per_spec_and_settings() -> None:
    binder = request_binder(PRODUCTS, SNAKE)
    assert request_binder(PRODUCTS, ListSettings()) is binder
    assert request_binder(PRODUCTS, CAMEL) is not binder
    assert binder.is_list
    assert {f.name for f in binder.filters} >= {"price_cents__gt", "name__ilike"}
    assert "attributes" not in binder.sortable
    camel = request_binder(PRODUCTS, CAMEL)
    assert "priceCents" in camel.sortable
    assert not request_binder(route("GET", "/users/{id}"), SNAKE).is_list


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_limit": 0},
        {"max_limit": 501},
        {"default_limit": 0},
        {"default_limit": 60, "max_limit": 50},
        {"case": "kebab"},
        {"max_limit": True},
    ],
)
def test_list_settings_reject_bad_values(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError):
        ListSettings(**kwargs)


class _LimitClashUseCase(UseCase[Product, list[Product]]):
    async def execute(self, query: QuerySpec, limit: int = 3) -> list[Product]:
        return []


class _ClashInterface(RestInterface[Product]):
    prefix = "/clash"
    routes = (RestRoute(use_case=_LimitClashUseCase, method="GET", path="/"),)


def test_a_plain_param_named_like_a_list_param_fails_at_start_up() -> None:
    (spec,) = compile_interfaces([_ClashInterface])
    assert "limit" in LIST_PARAMS
    with pytest.raises(CompilationError, match="'limit'"):
        request_binder(spec, SNAKE)


def test_bound_params_survive_msgspec_encoding() -> None:
    query = bind(PRODUCTS, [("restocked_at__gt", "2024-05-01T12:00:00Z"), ("sort", "-id")])
    encoded = msgspec.json.encode(query["query"])
    assert b'"restocked_at"' in encoded
    assert b'"DESC"' in encoded


# --- snake_case <-> camelCase ------------------------------------------------------------

NAMES = [
    "price_cents",
    "address_line_2",
    "_private",
    "a__b",
    "url_ID",
    "trailing_",
    "already",
    "alreadyCamel",
    "a_1b",
    "_lead_under",
]


@pytest.mark.parametrize("name", NAMES)
def test_to_camel_matches_msgspec_rename_camel(name: str) -> None:
    struct = msgspec.defstruct("S", [(name, int)], rename="camel")
    assert to_camel(name) == struct.__struct_encode_fields__[0]


@pytest.mark.parametrize(
    ("camel", "snake"),
    [
        ("priceCents", "price_cents"),
        ("price_cents", "price_cents"),
        ("HTTPServer", "http_server"),
        ("userID", "user_id"),
        ("zipCode", "zip_code"),
        ("already", "already"),
    ],
)
def test_to_snake(camel: str, snake: str) -> None:
    assert to_snake(camel) == snake


def test_snake_camel_round_trip_for_plain_names() -> None:
    for name in ("price_cents", "full_name", "zip_code", "in_stock_only"):
        assert to_snake(to_camel(name)) == name
