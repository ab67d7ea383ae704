"""List pages are built once per query shape; values never change the statement."""

from __future__ import annotations

import pytest
from tests.contract.models import Author
from tests.store.conftest import DIALECTS, MakeStore

from loom.core.repository.abc.query import (
    CursorResult,
    FilterGroup,
    FilterOp,
    FilterSpec,
    PageResult,
    PaginationMode,
    QuerySpec,
    SortSpec,
)

pytestmark = pytest.mark.parametrize("dialect", DIALECTS, indirect=True)

BY_ID = (SortSpec(field="id"),)


def _named(op: FilterOp, value: object) -> QuerySpec:
    return QuerySpec(filters=FilterGroup(filters=(FilterSpec(field="name", op=op, value=value),)))


async def test_a_shape_is_built_once_and_the_least_used_shape_is_dropped(
    make_store: MakeStore,
) -> None:
    store = await make_store([Author])
    pages = store.context.plan(Author).pages
    pages.size = 2
    equal = _named(FilterOp.EQ, "x").filters
    async with store.uow_factory() as uow:
        repo = uow.repository(Author)
        await repo.create_many(
            [{"name": n, "email": f"{n}@example.org"} for n in ("ann", "bob", "Ann%")]
        )
        first = await repo.list_with_query(_named(FilterOp.EQ, "ann"))
        statement, params = pages.offset(equal, BY_ID, limit=1, offset=0)
        assert len(pages) == 1
        again = await repo.list_with_query(_named(FilterOp.EQ, "bob"))
        assert len(pages) == 1  # another value, the same statement
        assert pages.offset(equal, BY_ID, limit=9, offset=3)[0] is statement
        liked = await repo.list_with_query(_named(FilterOp.LIKE, "Ann\\%"))
        ilike = await repo.list_with_query(_named(FilterOp.ILIKE, "ANN%"))
        assert len(pages) == 2  # three shapes seen, two kept
        assert pages.offset(equal, BY_ID, limit=1, offset=0)[0] is not statement
        cursor = await repo.list_with_query(
            QuerySpec(pagination=PaginationMode.CURSOR, sort=(SortSpec(field="name"),), limit=1)
        )
    assert params == {"loom_f0": "x", "loom_limit": 1, "loom_offset": 0}
    assert isinstance(first, PageResult)
    assert isinstance(again, PageResult)
    assert isinstance(liked, PageResult)
    assert isinstance(ilike, PageResult)
    assert isinstance(cursor, CursorResult)
    assert [a.name for a in first.items] == ["ann"]
    assert [a.name for a in again.items] == ["bob"]
    assert [a.name for a in liked.items] == ["Ann%"]  # an escaped wildcard stays literal
    assert sorted(a.name for a in ilike.items) == ["Ann%", "ann"]
    assert cursor.has_next is True
    assert len(pages) == 2
