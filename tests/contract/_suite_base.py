"""Fixtures, data and helpers shared by the parts of the repository contract suite."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from operator import attrgetter
from typing import Any

import msgspec
import pytest
from tests.contract.models import Author, Book, BookTag

from loom.core.repository.abc import UnitOfWork, UnitOfWorkFactory
from loom.core.repository.abc.query import (
    MAX_LIMIT,
    CursorResult,
    FilterGroup,
    PageResult,
    PaginationMode,
    QuerySpec,
    SortSpec,
)

T0 = datetime(2024, 1, 1, tzinfo=UTC)

CATALOGUE: tuple[dict[str, Any], ...] = (
    {"title": "alpha", "price_cents": 1000, "stock": 5, "subtitle": "First Edition",
     "published_at": T0},
    {"title": "beta", "price_cents": 2500, "stock": 0, "subtitle": None,
     "published_at": T0 + timedelta(days=31)},
    {"title": "gamma", "price_cents": 2500, "stock": 12, "subtitle": "third",
     "published_at": None},
    {"title": "delta", "price_cents": 500, "stock": 3, "subtitle": "50% off",
     "published_at": T0 - timedelta(days=31)},
    {"title": "epsilon", "price_cents": 4000, "stock": 5, "subtitle": "a_b",
     "published_at": None},
    {"title": "zeta", "price_cents": 1500, "stock": 20,
     "subtitle": "'; DROP TABLE authors; --", "published_at": T0 + timedelta(days=60)},
)  # fmt: skip
"""Six books with duplicate prices/stocks, NULL subtitles/dates and SQL-looking text."""

ALL_TITLES = frozenset(str(b["title"]) for b in CATALOGUE)


class ContractBase:
    """Fixtures of the suite. A backend provides ``uow_factory`` (and ``prepare_schema``)."""

    @pytest.fixture
    async def prepare_schema(self, uow_factory: UnitOfWorkFactory) -> None:
        """Hook: create the tables of ``CONTRACT_MODELS`` (empty) before each test.

        The default does nothing: the in-memory backend creates tables on first use.
        """
        return

    @pytest.fixture(autouse=True)
    async def _contract_schema(self, prepare_schema: None) -> None:
        return prepare_schema

    async def link_tag(self, uow: UnitOfWork, book_id: int, tag_id: int) -> None:
        """Hook: link a book to a tag (a row of ``book_tags``)."""
        await uow.repository(BookTag).create({"book_id": book_id, "tag_id": tag_id})


async def create_author(
    factory: UnitOfWorkFactory, name: str = "Ada", email: str | None = None, **extra: Any
) -> Author:
    """Create and commit one author."""
    async with factory() as uow:
        return await uow.repository(Author).create(
            {"name": name, "email": email or f"{name.lower()}@example.org", **extra}
        )


async def create_catalogue(factory: UnitOfWorkFactory) -> tuple[Author, dict[str, Book]]:
    """Create an author and the six ``CATALOGUE`` books; return them by title."""
    author = await create_author(factory, "Catalogue")
    async with factory() as uow:
        books = await uow.repository(Book).create_many(
            [{"author_id": author.id, **row} for row in CATALOGUE]
        )
    return author, {b.title: b for b in books}


async def create_many_books(factory: UnitOfWorkFactory, count: int = 23) -> list[Book]:
    """Create ``count`` books with many duplicate sort values and some NULL dates."""
    author = await create_author(factory, "Walker")
    rows = [
        {
            "author_id": author.id,
            "title": f"book-{i:02d}",
            "price_cents": (i % 4) * 100,
            "stock": i % 3,
            "subtitle": None if i % 2 else f"s{i % 3}",
            "published_at": None if i % 5 == 0 else T0 + timedelta(days=i % 7),
        }
        for i in range(count)
    ]
    async with factory() as uow:
        return await uow.repository(Book).create_many(rows)


async def list_page(
    factory: UnitOfWorkFactory,
    model: type[Any],
    *,
    filters: FilterGroup | None = None,
    sort: Sequence[SortSpec] = (),
    limit: int = MAX_LIMIT,
    page: int = 1,
    profile: str = "default",
) -> PageResult[Any]:
    """One offset page, asserting the result type."""
    query = QuerySpec(filters=filters, sort=tuple(sort), limit=limit, page=page)
    async with factory(read_only=True) as uow:
        result = await uow.repository(model).list_with_query(query, profile=profile)
    assert isinstance(result, PageResult)
    return result


async def titles(factory: UnitOfWorkFactory, filters: FilterGroup | None) -> set[str]:
    """Titles of the books matching ``filters``."""
    return {b.title for b in (await list_page(factory, Book, filters=filters)).items}


async def walk_cursor(
    factory: UnitOfWorkFactory,
    model: type[Any],
    sort: Sequence[SortSpec],
    *,
    limit: int,
    filters: FilterGroup | None = None,
) -> list[Any]:
    """Follow ``next_cursor`` to the end; return every id in the order seen."""
    ids: list[Any] = []
    cursor: str | None = None
    for _ in range(200):
        query = QuerySpec(
            filters=filters,
            sort=tuple(sort),
            pagination=PaginationMode.CURSOR,
            limit=limit,
            cursor=cursor,
        )
        async with factory(read_only=True) as uow:
            result = await uow.repository(model).list_with_query(query)
        assert isinstance(result, CursorResult)
        assert len(result.items) <= limit
        ids.extend(item.id for item in result.items)
        if not result.has_next:
            assert result.next_cursor is None
            return ids
        assert result.items, "a page with has_next must not be empty"
        assert isinstance(result.next_cursor, str)
        cursor = result.next_cursor
    raise AssertionError("the cursor walk did not end")


def is_unset(value: object) -> bool:
    """True when a relation or projection was not loaded."""
    return value is msgspec.UNSET


def expected_order(rows: Sequence[Any], sort: Sequence[SortSpec]) -> list[Any]:
    """Ids of ``rows`` in PostgreSQL order: NULLs last in ASC, first in DESC, then by id."""
    items = sorted(rows, key=lambda r: r.id)
    for spec in reversed(sort):
        nulls = [r for r in items if getattr(r, spec.field) is None]
        values = [r for r in items if getattr(r, spec.field) is not None]
        values.sort(key=attrgetter(spec.field), reverse=spec.descending)
        items = values + nulls if spec.direction == "ASC" else nulls + values
    return [r.id for r in items]
