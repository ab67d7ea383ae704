"""Contract: keyset (cursor) pages."""

from __future__ import annotations

import pytest
from tests.contract._suite_base import (
    ContractBase,
    create_many_books,
    expected_order,
    list_page,
    walk_cursor,
)
from tests.contract.models import Book

from loom.core.errors import ValidationError
from loom.core.repository.abc import UnitOfWorkFactory
from loom.core.repository.abc.query import (
    CursorResult,
    FilterGroup,
    FilterOp,
    FilterSpec,
    PaginationMode,
    QuerySpec,
    SortSpec,
)

SORTS: dict[str, tuple[SortSpec, ...]] = {
    "primary_key": (),
    "asc_with_duplicates": (SortSpec(field="stock"),),
    "desc_with_duplicates": (SortSpec(field="price_cents", direction="DESC"),),
    "mixed": (SortSpec(field="price_cents"), SortSpec(field="stock", direction="DESC")),
    "nullable_asc": (SortSpec(field="published_at"),),
    "nullable_desc_then_asc": (
        SortSpec(field="published_at", direction="DESC"),
        SortSpec(field="price_cents"),
    ),
    "nullable_text_mixed": (
        SortSpec(field="subtitle", direction="DESC"),
        SortSpec(field="stock"),
        SortSpec(field="published_at", direction="DESC"),
    ),
    "id_desc": (SortSpec(field="id", direction="DESC"),),
}


def _first_page(
    sort: tuple[SortSpec, ...], limit: int = 5, filters: FilterGroup | None = None
) -> QuerySpec:
    return QuerySpec(sort=sort, filters=filters, pagination=PaginationMode.CURSOR, limit=limit)


class CursorContract(ContractBase):
    """Walking a table page by page never skips or repeats a row, in any sort."""

    @pytest.mark.parametrize("limit", [1, 4, 7, 23, 50])
    @pytest.mark.parametrize("sort_name", sorted(SORTS))
    async def test_walk_visits_every_row_once_in_order(
        self, uow_factory: UnitOfWorkFactory, sort_name: str, limit: int
    ) -> None:
        books = await create_many_books(uow_factory, 23)
        sort = SORTS[sort_name]
        walked = await walk_cursor(uow_factory, Book, sort, limit=limit)
        assert walked == expected_order(books, sort)

    async def test_offset_listing_uses_the_same_order(self, uow_factory: UnitOfWorkFactory) -> None:
        books = await create_many_books(uow_factory, 23)
        for sort in SORTS.values():
            page = await list_page(uow_factory, Book, sort=sort)
            assert [b.id for b in page.items] == expected_order(books, sort)

    async def test_walk_with_a_filter(self, uow_factory: UnitOfWorkFactory) -> None:
        books = await create_many_books(uow_factory, 23)
        in_stock = FilterGroup(filters=(FilterSpec(field="stock", op=FilterOp.GTE, value=1),))
        sort = (SortSpec(field="price_cents", direction="DESC"),)
        walked = await walk_cursor(uow_factory, Book, sort, limit=3, filters=in_stock)
        assert walked == expected_order([b for b in books if b.stock >= 1], sort)

    async def test_last_page_has_no_cursor(self, uow_factory: UnitOfWorkFactory) -> None:
        await create_many_books(uow_factory, 5)
        async with uow_factory(read_only=True) as uow:
            result = await uow.repository(Book).list_with_query(_first_page((), limit=5))
        assert isinstance(result, CursorResult)
        assert (len(result.items), result.has_next, result.next_cursor) == (5, False, None)

    async def test_empty_table(self, uow_factory: UnitOfWorkFactory) -> None:
        async with uow_factory(read_only=True) as uow:
            result = await uow.repository(Book).list_with_query(_first_page(()))
        assert isinstance(result, CursorResult)
        assert (result.items, result.has_next, result.next_cursor) == ([], False, None)

    async def test_a_cursor_implies_cursor_mode(self, uow_factory: UnitOfWorkFactory) -> None:
        books = await create_many_books(uow_factory, 6)
        async with uow_factory(read_only=True) as uow:
            repo = uow.repository(Book)
            first = await repo.list_with_query(_first_page((), limit=4))
            assert isinstance(first, CursorResult)
            assert first.next_cursor is not None
            second = await repo.list_with_query(QuerySpec(limit=4, cursor=first.next_cursor))
        assert isinstance(second, CursorResult)
        assert [b.id for b in second.items] == [b.id for b in books[4:]]

    async def test_forged_cursor_is_refused(self, uow_factory: UnitOfWorkFactory) -> None:
        await create_many_books(uow_factory, 6)
        sort = (SortSpec(field="stock"),)
        async with uow_factory(read_only=True) as uow:
            repo = uow.repository(Book)
            first = await repo.list_with_query(_first_page(sort, limit=2))
            assert isinstance(first, CursorResult)
            assert first.next_cursor is not None
            token = first.next_cursor
            middle = len(token) // 2
            forged = [
                token[:middle] + ("A" if token[middle] != "A" else "B") + token[middle + 1 :],
                token[:-3],
                "not-a-cursor",
                token + "AAAA",
            ]
            for bad in forged:
                with pytest.raises(ValidationError) as exc:
                    await repo.list_with_query(
                        QuerySpec(sort=sort, pagination=PaginationMode.CURSOR, cursor=bad)
                    )
                assert [e.field for e in exc.value.errors] == ["cursor"]

    async def test_cursor_from_another_sort_is_refused(
        self, uow_factory: UnitOfWorkFactory
    ) -> None:
        await create_many_books(uow_factory, 6)
        async with uow_factory(read_only=True) as uow:
            repo = uow.repository(Book)
            first = await repo.list_with_query(_first_page((SortSpec(field="stock"),), limit=2))
            assert isinstance(first, CursorResult)
            assert first.next_cursor is not None
            for other in (
                (SortSpec(field="stock", direction="DESC"),),
                (SortSpec(field="price_cents"),),
                (),
            ):
                query = QuerySpec(
                    sort=other, pagination=PaginationMode.CURSOR, cursor=first.next_cursor
                )
                with pytest.raises(ValidationError) as exc:
                    await repo.list_with_query(query)
                assert [e.field for e in exc.value.errors] == ["cursor"]
