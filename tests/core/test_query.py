"""The query spec types, their caps, ``validate_query`` and the cursor codec."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, date, datetime, time
from decimal import Decimal
from enum import Enum, StrEnum
from typing import Any, Literal
from uuid import UUID

import msgspec
import pytest

from loom.core.errors import FieldError, ValidationError
from loom.core.model import BaseModel, ColumnField, OneToMany
from loom.core.repository import abc
from loom.core.repository.abc.cursor import CursorCodec, keyset_sort, sort_signature
from loom.core.repository.abc.query import (
    MAX_LIMIT,
    CursorResult,
    FilterGroup,
    FilterOp,
    FilterSpec,
    PageResult,
    PaginationMode,
    QuerySpec,
    SortSpec,
    validate_query,
)


class Color(StrEnum):
    RED = "red"
    BLUE = "blue"


class Size(Enum):
    SMALL = 1
    LARGE = 2


class Item(BaseModel, kw_only=True):
    __tablename__ = "query_items"

    id: int = ColumnField(primary_key=True, autoincrement=True)
    name: str
    stock: int
    price: Decimal
    ratio: float | None = None
    active: bool = True
    born: date | None = None
    seen_at: datetime | None = None
    color: Color = Color.RED
    size: Size = Size.SMALL
    grade: Literal["a", "b"] = "a"
    ref: UUID | None = None
    extra: dict[str, Any] = ColumnField(default_factory=dict)
    parts: list[Part] = OneToMany("Part", foreign_key="item_id")


class Part(BaseModel, kw_only=True):
    __tablename__ = "query_parts"

    id: int = ColumnField(primary_key=True, autoincrement=True)
    item_id: int = ColumnField(foreign_key="query_items.id")


def _errors(exc: pytest.ExceptionInfo[ValidationError]) -> dict[str, str]:
    return {e.field: e.message for e in exc.value.errors}


def _check(*filters: FilterSpec | FilterGroup, sort: tuple[SortSpec, ...] = ()) -> None:
    validate_query(QuerySpec(filters=FilterGroup(filters=filters), sort=sort), Item)


# -- the types ------------------------------------------------------------------------------


def test_seed_form_is_accepted() -> None:
    query = QuerySpec(
        filters=FilterGroup(filters=(FilterSpec(field="stock", op=FilterOp.LTE, value=5),)),
        sort=(SortSpec(field="stock", direction="ASC"),),
        pagination=PaginationMode.OFFSET,
        limit=20,
        page=1,
    )
    assert query.filters is not None
    assert query.filters.filters[0] == FilterSpec(field="stock", op=FilterOp.LTE, value=5)
    assert (query.limit, query.page, query.offset, query.mode) == (20, 1, 0, PaginationMode.OFFSET)


def test_defaults() -> None:
    query = QuerySpec()
    assert (query.filters, query.sort, query.pagination) == (None, (), PaginationMode.OFFSET)
    assert (query.limit, query.page, query.cursor) == (50, 1, None)
    assert FilterSpec(field="x").op is FilterOp.EQ
    assert FilterGroup().op == "AND"
    assert SortSpec(field="x").direction == "ASC"


def test_names_are_reexported_from_abc() -> None:
    assert abc.QuerySpec is QuerySpec
    assert abc.FilterOp is FilterOp
    assert abc.MAX_LIMIT == MAX_LIMIT == 500

    def isort_key(name: str) -> tuple[bool, bool, str]:
        return (not name.isupper(), not name[0].isupper(), name)

    assert abc.__all__ == sorted(abc.__all__, key=isort_key)
    assert set(abc.__all__) >= {"RepoFor", "UnitOfWork", "UnitOfWorkFactory", "validate_query"}


def test_enum_values_match_the_rest_suffixes() -> None:
    assert [op.value for op in FilterOp] == [
        "eq", "ne", "gt", "gte", "lt", "lte", "in", "like", "ilike", "is_null"
    ]  # fmt: skip
    assert [m.value for m in PaginationMode] == ["offset", "cursor"]


def test_structs_are_frozen() -> None:
    query = QuerySpec()
    with pytest.raises(AttributeError):
        query.limit = 10  # type: ignore[misc]
    with pytest.raises(AttributeError):
        SortSpec(field="x").field = "y"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("kwargs", "fields"),
    [
        ({"limit": 0}, {"limit"}),
        ({"limit": MAX_LIMIT + 1}, {"limit"}),
        ({"limit": True}, {"limit"}),
        ({"page": 0}, {"page"}),
        ({"page": -3}, {"page"}),
        ({"limit": 10_000, "page": 0}, {"limit", "page"}),
        ({"pagination": "sideways"}, {"pagination"}),
        ({"cursor": 12}, {"cursor"}),
    ],
)
def test_query_spec_caps(kwargs: dict[str, Any], fields: set[str]) -> None:
    with pytest.raises(ValidationError) as exc:
        QuerySpec(**kwargs)
    assert set(_errors(exc)) == fields


def test_limits_at_the_edges_are_fine() -> None:
    assert QuerySpec(limit=1).limit == 1
    assert QuerySpec(limit=MAX_LIMIT, page=3).offset == 2 * MAX_LIMIT


def test_strings_are_coerced_to_enums() -> None:
    spec = FilterSpec(field="x", op="gte")  # type: ignore[arg-type]
    query = QuerySpec(pagination="cursor")  # type: ignore[arg-type]
    assert spec.op is FilterOp.GTE
    assert query.pagination is PaginationMode.CURSOR


def test_bad_operators_and_directions() -> None:
    with pytest.raises(ValidationError) as op:
        FilterSpec(field="stock", op="between")  # type: ignore[arg-type]
    with pytest.raises(ValidationError) as group:
        FilterGroup(op="XOR")  # type: ignore[arg-type]
    with pytest.raises(ValidationError) as direction:
        SortSpec(field="price", direction="down")  # type: ignore[arg-type]
    assert list(_errors(op)) == ["filters.stock"]
    assert list(_errors(group)) == ["filters"]
    assert list(_errors(direction)) == ["sort.price"]


def test_a_cursor_implies_cursor_mode() -> None:
    assert QuerySpec(cursor="abc").mode is PaginationMode.CURSOR
    assert QuerySpec(pagination=PaginationMode.CURSOR).mode is PaginationMode.CURSOR
    assert QuerySpec().mode is PaginationMode.OFFSET


def test_decode_from_json_with_nested_groups() -> None:
    payload = {
        "filters": {
            "op": "OR",
            "filters": [
                {"kind": "filter", "field": "stock", "op": "lt", "value": 3},
                {"kind": "group", "filters": [{"kind": "filter", "field": "name", "value": "x"}]},
            ],
        },
        "sort": [{"field": "stock", "direction": "DESC"}],
        "pagination": "cursor",
        "limit": 5,
    }
    query = msgspec.convert(payload, QuerySpec)
    assert query.filters is not None
    inner = query.filters.filters[1]
    assert isinstance(inner, FilterGroup)
    assert inner.filters == (FilterSpec(field="name", value="x"),)
    assert query.sort == (SortSpec(field="stock", direction="DESC"),)
    assert (query.mode, query.limit) == (PaginationMode.CURSOR, 5)
    assert msgspec.convert(msgspec.to_builtins(query), QuerySpec) == query
    with pytest.raises(ValidationError):
        msgspec.convert({"limit": 501}, QuerySpec)


def test_results_are_generic_structs() -> None:
    page = PageResult[int](items=[1, 2], total_count=7, page=1, limit=2, has_next=True)
    cursor = CursorResult[str](items=["a"], next_cursor=None, has_next=False)
    assert msgspec.json.decode(msgspec.json.encode(page)) == {
        "items": [1, 2],
        "total_count": 7,
        "page": 1,
        "limit": 2,
        "has_next": True,
    }
    assert msgspec.convert(
        {"items": ["x"], "next_cursor": "c", "has_next": True}, CursorResult[str]
    )
    assert cursor.next_cursor is None
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert({"items": ["x"], "total_count": 1, "page": 1, "limit": 1}, PageResult[str])


# -- validate_query ---------------------------------------------------------------------------


def test_a_valid_query_passes() -> None:
    moment = datetime(2024, 1, 1, tzinfo=UTC)
    _check(
        FilterSpec(field="stock", op=FilterOp.GTE, value=1),
        FilterSpec(field="price", op=FilterOp.LT, value=Decimal("9.99")),
        FilterSpec(field="price", op=FilterOp.GT, value=3),
        FilterSpec(field="ratio", op=FilterOp.LTE, value=1),
        FilterSpec(field="name", op=FilterOp.ILIKE, value="%a\\%%"),
        FilterSpec(field="name", op=FilterOp.IN, value=("a", "b")),
        FilterSpec(field="active", value=False),
        FilterSpec(field="born", op=FilterOp.NE, value=date(2020, 1, 1)),
        FilterSpec(field="seen_at", op=FilterOp.GT, value=moment),
        FilterSpec(field="color", op=FilterOp.IN, value=[Color.BLUE, "red"]),
        FilterSpec(field="size", value=Size.LARGE),
        FilterSpec(field="size", value=2),
        FilterSpec(field="grade", value="b"),
        FilterSpec(field="ref", value=UUID(int=1)),
        FilterSpec(field="extra", op=FilterOp.IS_NULL, value=False),
        FilterGroup(op="OR", filters=(FilterSpec(field="id", op=FilterOp.IN, value=[]),)),
        sort=(SortSpec(field="price", direction="DESC"), SortSpec(field="seen_at")),
    )


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (FilterSpec(field="stock", value="5"), "eq takes a value of type int, got str"),
        (FilterSpec(field="stock", value=True), "got bool"),
        (FilterSpec(field="stock", value=None), "use is_null"),
        (FilterSpec(field="stock", op=FilterOp.IN, value=5), "in takes a list"),
        (FilterSpec(field="stock", op=FilterOp.IN, value=[1, None]), "use is_null"),
        (FilterSpec(field="stock", op=FilterOp.IN, value=[1, "2"]), "got str"),
        (FilterSpec(field="stock", op=FilterOp.IS_NULL, value=None), "true or false"),
        (FilterSpec(field="stock", op=FilterOp.LIKE, value="1%"), "text fields only"),
        (FilterSpec(field="name", op=FilterOp.ILIKE, value=1), "text pattern"),
        (FilterSpec(field="name", op=FilterOp.LIKE, value="abc\\"), "escape character"),
        (FilterSpec(field="price", value=1.5), "got float"),
        (FilterSpec(field="active", value=1), "got int"),
        (FilterSpec(field="born", value=datetime(2020, 1, 1, tzinfo=UTC)), "got datetime"),
        (FilterSpec(field="seen_at", value=datetime(2020, 1, 1)), "timezone-aware"),
        (FilterSpec(field="seen_at", value="2020-01-01T00:00:00Z"), "got str"),
        (FilterSpec(field="color", value="green"), "one of 'red', 'blue'"),
        (FilterSpec(field="grade", value="c"), "one of 'a', 'b'"),
        (FilterSpec(field="ref", value=str(UUID(int=1))), "got str"),
        (FilterSpec(field="extra", value={}), "only be filtered with is_null"),
    ],
)
def test_filter_value_problems(spec: FilterSpec, message: str) -> None:
    with pytest.raises(ValidationError) as exc:
        _check(spec)
    errors = _errors(exc)
    assert list(errors) == [f"filters.{spec.field}"]
    assert message in errors[f"filters.{spec.field}"]


def test_like_pattern_may_end_with_an_escaped_backslash() -> None:
    _check(FilterSpec(field="name", op=FilterOp.LIKE, value="abc\\\\"))


def test_every_problem_is_listed_with_its_path() -> None:
    query = QuerySpec(
        filters=FilterGroup(
            filters=(
                FilterSpec(field="nope", value=1),
                FilterGroup(op="OR", filters=(FilterSpec(field="stock", value="x"),)),
                FilterSpec(field="parts", op=FilterOp.IS_NULL, value=True),
            )
        ),
        sort=(SortSpec(field="price"), SortSpec(field="missing"), SortSpec(field="price")),
    )
    with pytest.raises(ValidationError) as exc:
        validate_query(query, Item)
    assert [e.field for e in exc.value.errors] == [
        "filters.nope",
        "filters.stock",
        "filters.parts",
        "sort.missing",
        "sort.price",
    ]
    assert "unknown field" in _errors(exc)["filters.nope"]
    assert "sorted on more than once" in _errors(exc)["sort.price"]


def test_sort_on_a_non_scalar_column_is_refused() -> None:
    with pytest.raises(ValidationError) as exc:
        _check(sort=(SortSpec(field="extra"),))
    assert list(_errors(exc)) == ["sort.extra"]


def test_validate_query_rechecks_paging() -> None:
    query = QuerySpec(limit=10)
    msgspec.structs.force_setattr(query, "limit", 0)
    msgspec.structs.force_setattr(query, "page", 0)
    with pytest.raises(ValidationError) as exc:
        validate_query(query, Item)
    assert set(_errors(exc)) == {"limit", "page"}


# -- the cursor codec -----------------------------------------------------------------------

VALUES: list[Any] = [
    0,
    -7,
    2**70,
    "text with ü and \u2603",
    "",
    None,
    True,
    False,
    1.5,
    -0.1,
    datetime(2024, 5, 1, 10, 0, 0, 123456, tzinfo=UTC),
    date(2024, 2, 29),
    time(23, 59, 1),
    Decimal("12.3400"),
    Decimal("-1E+3"),
    UUID("12345678-1234-5678-1234-567812345678"),
    b"\x00\xffbytes",
]


def test_cursor_round_trip_keeps_types() -> None:
    codec = CursorCodec("secret")
    token = codec.encode(VALUES, "a:ASC,id:ASC")
    decoded = codec.decode(token, "a:ASC,id:ASC")
    assert decoded == VALUES
    assert [type(v) for v in decoded] == [type(v) for v in VALUES]
    assert decoded[10].tzinfo is not None
    assert str(decoded[13]) == "12.3400"


def test_cursor_stores_enum_members_as_values() -> None:
    codec = CursorCodec(b"secret")
    assert codec.decode(codec.encode([Color.BLUE, Size.LARGE], "s"), "s") == ["blue", 2]


def test_cursor_is_url_safe_and_opaque() -> None:
    token = CursorCodec("secret").encode(["needle", 42], "s")
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert "needle" not in token


def _assert_invalid(codec: CursorCodec, token: Any, signature: str = "s") -> None:
    with pytest.raises(ValidationError) as exc:
        codec.decode(token, signature)
    assert exc.value.errors == (FieldError("cursor", "invalid cursor"),)


def test_tampered_cursors_are_refused() -> None:
    codec = CursorCodec("secret")
    token = codec.encode([1, "a"], "s")
    for index in range(len(token) - 1):
        flipped = "A" if token[index] != "A" else "B"
        _assert_invalid(codec, token[:index] + flipped + token[index + 1 :])
    _assert_invalid(codec, token[:-4])
    _assert_invalid(codec, token[:10])
    _assert_invalid(codec, token + "Zg")


@pytest.mark.parametrize("token", ["", "!!!!", "a", "%%%", "x" * 5000, 12, None])
def test_garbage_is_refused(token: Any) -> None:
    _assert_invalid(CursorCodec("secret"), token)


def test_signature_and_secret_must_match() -> None:
    token = CursorCodec("secret").encode([1], "stock:ASC,id:ASC")
    _assert_invalid(CursorCodec("secret"), token, "stock:DESC,id:ASC")
    _assert_invalid(CursorCodec("other"), token, "stock:ASC,id:ASC")
    assert CursorCodec(b"secret").decode(token, "stock:ASC,id:ASC") == [1]


def _signed(payload: bytes, signature: str = "s", secret: bytes = b"secret") -> str:
    mac = hmac.new(secret, signature.encode() + b"\x00" + payload, hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(mac + payload).rstrip(b"=").decode()


@pytest.mark.parametrize(
    "payload", [b'{"a": 1}', b"not json", b'[["zz", "x"]]', b'[["dt", "yesterday"]]', b"[[1]]"]
)
def test_well_signed_but_malformed_payloads_are_refused(payload: bytes) -> None:
    codec = CursorCodec("secret")
    assert codec.decode(_signed(b'[["dec", "1.5"]]'), "s") == [Decimal("1.5")]
    _assert_invalid(codec, _signed(payload))


def test_codec_needs_a_secret_and_known_types() -> None:
    with pytest.raises(ValueError, match="non-empty secret"):
        CursorCodec("")
    with pytest.raises(TypeError, match="cannot hold a value of type object"):
        CursorCodec("s").encode([object()], "s")


def test_keyset_sort_and_signature() -> None:
    sort = (SortSpec(field="stock"), SortSpec(field="price", direction="DESC"))
    full = keyset_sort(sort, "id")
    assert full == (*sort, SortSpec(field="id"))
    assert keyset_sort((SortSpec(field="id", direction="DESC"),), "id") == (
        SortSpec(field="id", direction="DESC"),
    )
    assert sort_signature(full) == "stock:ASC,price:DESC,id:ASC"
    assert sort_signature(()) == ""
