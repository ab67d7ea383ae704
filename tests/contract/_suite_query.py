"""Contract: filters, sorting, offset pages, query validation, SQL-looking input."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import msgspec
import pytest
from tests.contract._suite_base import (
    ALL_TITLES,
    T0,
    ContractBase,
    create_author,
    create_catalogue,
    list_page,
    titles,
)
from tests.contract.models import Author, Book

from loom.core.errors import ValidationError
from loom.core.repository.abc import UnitOfWorkFactory
from loom.core.repository.abc.query import (
    MAX_LIMIT,
    FilterGroup,
    FilterOp,
    FilterSpec,
    QuerySpec,
    SortSpec,
)

INJECTION = "'; DROP TABLE authors; --"

FILTER_CASES: list[tuple[str, FilterOp, Any, set[str]]] = [
    ("stock", FilterOp.EQ, 5, {"alpha", "epsilon"}),
    ("stock", FilterOp.NE, 5, {"beta", "gamma", "delta", "zeta"}),
    ("subtitle", FilterOp.NE, "third", {"alpha", "delta", "epsilon", "zeta"}),
    ("price_cents", FilterOp.GT, 2500, {"epsilon"}),
    ("price_cents", FilterOp.GTE, 2500, {"beta", "gamma", "epsilon"}),
    ("price_cents", FilterOp.LT, 1000, {"delta"}),
    ("price_cents", FilterOp.LTE, 1000, {"alpha", "delta"}),
    ("stock", FilterOp.IN, [0, 3, 99], {"beta", "delta"}),
    ("stock", FilterOp.IN, (12,), {"gamma"}),
    ("stock", FilterOp.IN, [], set()),
    ("title", FilterOp.LIKE, "%ta", {"beta", "delta", "zeta"}),
    ("title", FilterOp.LIKE, "_eta", {"beta", "zeta"}),
    ("title", FilterOp.LIKE, "gamma", {"gamma"}),
    ("subtitle", FilterOp.LIKE, "first%", set()),
    ("subtitle", FilterOp.ILIKE, "first%", {"alpha"}),
    ("subtitle", FilterOp.ILIKE, "%EDITION", {"alpha"}),
    ("subtitle", FilterOp.LIKE, "%", {"alpha", "gamma", "delta", "epsilon", "zeta"}),
    ("subtitle", FilterOp.LIKE, "50\\% off", {"delta"}),
    ("subtitle", FilterOp.LIKE, "%\\%%", {"delta"}),
    ("subtitle", FilterOp.LIKE, "%\\_%", {"epsilon"}),
    ("subtitle", FilterOp.LIKE, "a\\_b", {"epsilon"}),
    ("subtitle", FilterOp.IS_NULL, True, {"beta"}),
    ("subtitle", FilterOp.IS_NULL, False, set(ALL_TITLES - {"beta"})),
    ("published_at", FilterOp.IS_NULL, True, {"gamma", "epsilon"}),
    ("published_at", FilterOp.GT, T0 + timedelta(days=15), {"beta", "zeta"}),
    ("published_at", FilterOp.LTE, T0, {"alpha", "delta"}),
    ("published_at", FilterOp.NE, T0, {"beta", "delta", "zeta"}),
]

NAMES = (INJECTION, "%", "_", "plain", "100%", "a_b")

SQL_TEXT_CASES: list[tuple[FilterOp, Any, set[str]]] = [
    (FilterOp.EQ, INJECTION, {INJECTION}),
    (FilterOp.EQ, "%", {"%"}),
    (FilterOp.EQ, "_", {"_"}),
    (FilterOp.NE, "%", set(NAMES) - {"%"}),
    (FilterOp.NE, INJECTION, set(NAMES) - {INJECTION}),
    (FilterOp.IN, [INJECTION, "%", "_"], {INJECTION, "%", "_"}),
    (FilterOp.LIKE, INJECTION, {INJECTION}),
    (FilterOp.ILIKE, INJECTION.upper(), {INJECTION}),
    (FilterOp.LIKE, "%", set(NAMES)),
    (FilterOp.LIKE, "_", {"%", "_"}),
    (FilterOp.ILIKE, "_", {"%", "_"}),
    (FilterOp.LIKE, "\\%", {"%"}),
    (FilterOp.LIKE, "%\\%", {"%", "100%"}),
    (FilterOp.LIKE, "\\_", {"_"}),
    (FilterOp.ILIKE, "%\\_%", {"_", "a_b"}),
]


def _where(field: str, op: FilterOp, value: Any) -> FilterGroup:
    return FilterGroup(filters=(FilterSpec(field=field, op=op, value=value),))


def _fields(exc: pytest.ExceptionInfo[ValidationError]) -> set[str]:
    return {e.field for e in exc.value.errors}


class QueryContract(ContractBase):
    """Every filter operator, nested groups, sorting and offset pages."""

    @pytest.mark.parametrize(("field", "op", "value", "expected"), FILTER_CASES)
    async def test_filter_operator(
        self,
        uow_factory: UnitOfWorkFactory,
        field: str,
        op: FilterOp,
        value: Any,
        expected: set[str],
    ) -> None:
        await create_catalogue(uow_factory)
        assert await titles(uow_factory, _where(field, op, value)) == expected

    async def test_nested_groups(self, uow_factory: UnitOfWorkFactory) -> None:
        await create_catalogue(uow_factory)
        cheap_or_untitled = FilterGroup(
            op="OR",
            filters=(
                FilterSpec(field="price_cents", op=FilterOp.LT, value=1000),
                FilterSpec(field="subtitle", op=FilterOp.IS_NULL, value=True),
            ),
        )
        group = FilterGroup(
            filters=(FilterSpec(field="stock", op=FilterOp.LTE, value=5), cheap_or_untitled)
        )
        assert await titles(uow_factory, group) == {"beta", "delta"}
        either = FilterGroup(
            op="OR",
            filters=(
                FilterSpec(field="title", value="alpha"),
                FilterGroup(filters=(FilterSpec(field="stock", op=FilterOp.GT, value=15),)),
            ),
        )
        assert await titles(uow_factory, either) == {"alpha", "zeta"}
        assert await titles(uow_factory, FilterGroup()) == ALL_TITLES

    async def test_sort_by_several_fields(self, uow_factory: UnitOfWorkFactory) -> None:
        await create_catalogue(uow_factory)
        sort = (SortSpec(field="price_cents"), SortSpec(field="title", direction="DESC"))
        page = await list_page(uow_factory, Book, sort=sort)
        assert [b.title for b in page.items] == [
            "delta", "alpha", "zeta", "gamma", "beta", "epsilon"
        ]  # fmt: skip

    async def test_nulls_last_ascending_and_first_descending(
        self, uow_factory: UnitOfWorkFactory
    ) -> None:
        await create_catalogue(uow_factory)
        asc = await list_page(uow_factory, Book, sort=(SortSpec(field="published_at"),))
        desc = await list_page(
            uow_factory, Book, sort=(SortSpec(field="published_at", direction="DESC"),)
        )
        assert [b.title for b in asc.items] == [
            "delta", "alpha", "beta", "zeta", "gamma", "epsilon"
        ]  # fmt: skip
        assert [b.title for b in desc.items] == [
            "gamma", "epsilon", "zeta", "beta", "alpha", "delta"
        ]  # fmt: skip

    async def test_default_order_is_the_primary_key(self, uow_factory: UnitOfWorkFactory) -> None:
        _, books = await create_catalogue(uow_factory)
        page = await list_page(uow_factory, Book)
        assert [b.id for b in page.items] == sorted(b.id for b in books.values())

    async def test_offset_pages(self, uow_factory: UnitOfWorkFactory) -> None:
        await create_catalogue(uow_factory)
        sort = (SortSpec(field="title"),)
        first = await list_page(uow_factory, Book, sort=sort, limit=4, page=1)
        last = await list_page(uow_factory, Book, sort=sort, limit=4, page=2)
        beyond = await list_page(uow_factory, Book, sort=sort, limit=4, page=3)
        assert [b.title for b in first.items] == ["alpha", "beta", "delta", "epsilon"]
        assert (first.total_count, first.page, first.limit, first.has_next) == (6, 1, 4, True)
        assert [b.title for b in last.items] == ["gamma", "zeta"]
        assert (last.total_count, last.page, last.has_next) == (6, 2, False)
        assert (beyond.items, beyond.total_count, beyond.has_next) == ([], 6, False)

    async def test_offset_page_that_ends_exactly_has_no_next(
        self, uow_factory: UnitOfWorkFactory
    ) -> None:
        await create_catalogue(uow_factory)
        page = await list_page(uow_factory, Book, limit=3, page=2)
        assert len(page.items) == 3
        assert page.has_next is False

    async def test_total_count_counts_filtered_rows(self, uow_factory: UnitOfWorkFactory) -> None:
        await create_catalogue(uow_factory)
        low = _where("stock", FilterOp.LTE, 5)
        page = await list_page(uow_factory, Book, filters=low, limit=2)
        assert (len(page.items), page.total_count, page.has_next) == (2, 4, True)


class QueryValidationContract(ContractBase):
    """Bad queries are refused with a ValidationError naming the parameter."""

    async def test_limit_over_the_cap(self, uow_factory: UnitOfWorkFactory) -> None:
        with pytest.raises(ValidationError) as exc:
            QuerySpec(limit=MAX_LIMIT + 1)
        assert _fields(exc) == {"limit"}
        sneaky = QuerySpec(limit=10)
        msgspec.structs.force_setattr(sneaky, "limit", MAX_LIMIT + 1)
        async with uow_factory(read_only=True) as uow:
            with pytest.raises(ValidationError) as repo_exc:
                await uow.repository(Book).list_with_query(sneaky)
        assert "limit" in _fields(repo_exc)

    async def test_unknown_filter_and_sort_fields(self, uow_factory: UnitOfWorkFactory) -> None:
        query = QuerySpec(filters=_where("nope", FilterOp.EQ, 1), sort=(SortSpec(field="missing"),))
        async with uow_factory(read_only=True) as uow:
            with pytest.raises(ValidationError) as exc:
                await uow.repository(Book).list_with_query(query)
            with pytest.raises(ValidationError) as counted:
                await uow.repository(Book).count(_where("nope", FilterOp.EQ, 1))
            with pytest.raises(ValidationError) as existing:
                await uow.repository(Book).exists({"nope": 1})
        assert {"filters.nope", "sort.missing"} <= _fields(exc)
        assert "filters.nope" in _fields(counted)
        assert "filters.nope" in _fields(existing)

    async def test_relations_and_wrong_values_are_refused(
        self, uow_factory: UnitOfWorkFactory
    ) -> None:
        bad = FilterGroup(
            filters=(
                FilterSpec(field="author", value=1),
                FilterSpec(field="stock", op=FilterOp.GT, value="five"),
                FilterSpec(field="price_cents", op=FilterOp.LIKE, value="1%"),
                FilterSpec(field="subtitle", op=FilterOp.IS_NULL, value="yes"),
            )
        )
        async with uow_factory(read_only=True) as uow:
            with pytest.raises(ValidationError) as exc:
                await uow.repository(Book).list_with_query(QuerySpec(filters=bad))
        assert _fields(exc) == {
            "filters.author",
            "filters.stock",
            "filters.price_cents",
            "filters.subtitle",
        }

    async def test_unknown_profile(self, uow_factory: UnitOfWorkFactory) -> None:
        author = await create_author(uow_factory, "Ada")
        async with uow_factory(read_only=True) as uow:
            with pytest.raises(ValidationError) as exc:
                await uow.repository(Author).get(author.id, profile="no_such_profile")
        assert _fields(exc) == {"profile"}


class SqlTextContract(ContractBase):
    """SQL-looking strings and wildcard characters are data, never query text."""

    @pytest.fixture
    async def names(self, uow_factory: UnitOfWorkFactory) -> None:
        async with uow_factory() as uow:
            await uow.repository(Author).create_many(
                [{"name": name, "email": f"user{i}@example.org"} for i, name in enumerate(NAMES)]
            )

    @pytest.mark.parametrize(("op", "value", "expected"), SQL_TEXT_CASES)
    async def test_string_operator_treats_text_as_data(
        self,
        uow_factory: UnitOfWorkFactory,
        names: None,
        op: FilterOp,
        value: Any,
        expected: set[str],
    ) -> None:
        page = await list_page(uow_factory, Author, filters=_where("name", op, value))
        assert {a.name for a in page.items} == expected
        async with uow_factory(read_only=True) as uow:
            assert await uow.repository(Author).count() == len(NAMES)
            assert await uow.repository(Author).exists(_where("name", op, value)) is bool(expected)

    @pytest.mark.parametrize("op", [FilterOp.GT, FilterOp.GTE, FilterOp.LT, FilterOp.LTE])
    @pytest.mark.parametrize("value", [INJECTION, "%", "_"])
    async def test_range_operators_accept_sql_text(
        self, uow_factory: UnitOfWorkFactory, names: None, op: FilterOp, value: str
    ) -> None:
        page = await list_page(uow_factory, Author, filters=_where("name", op, value))
        got = {a.name for a in page.items}
        assert got <= set(NAMES)
        assert (value in got) is (op in (FilterOp.GTE, FilterOp.LTE))
        async with uow_factory(read_only=True) as uow:
            assert await uow.repository(Author).count() == len(NAMES)

    async def test_sql_text_in_writes_is_stored_verbatim(
        self, uow_factory: UnitOfWorkFactory
    ) -> None:
        author = await create_author(uow_factory, INJECTION, email="x@example.org")
        async with uow_factory() as uow:
            await uow.repository(Author).update(author.id, {"bio": "\\%_' OR 1=1 --"})
        async with uow_factory(read_only=True) as uow:
            stored = await uow.repository(Author).get(author.id)
            assert await uow.repository(Author).exists({"bio": "\\%_' OR 1=1 --"}) is True
        assert stored is not None
        assert (stored.name, stored.bio) == (INJECTION, "\\%_' OR 1=1 --")
