"""Round trips: relations load without N+1, writes take one statement, plans are reused."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import event
from tests.contract.models import CONTRACT_MODELS, Author, Book, BookTag, Tag
from tests.store.conftest import DIALECTS, MakeStore

from loom.core.errors import Conflict
from loom.core.repository.abc.query import PageResult, QuerySpec, SortSpec
from loom.store._lean import LeanConnection
from loom.store._reads import ReadStatement
from loom.store.store import SQLStore

pytestmark = pytest.mark.parametrize("dialect", DIALECTS, indirect=True)

EARLY = datetime(2020, 1, 2, 3, 4, 5, tzinfo=UTC)


class Counter:
    def __init__(self) -> None:
        self.statements: list[str] = []

    def __call__(self, conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        if statement not in ("BEGIN", "BEGIN IMMEDIATE"):
            self.statements.append(statement)

    def take(self) -> list[str]:
        taken, self.statements = self.statements, []
        return taken


@pytest.fixture
async def store(make_store: MakeStore) -> SQLStore:
    store = await make_store(CONTRACT_MODELS)
    async with store.uow_factory() as uow:
        authors = await uow.repository(Author).create_many(
            [{"name": n, "email": f"{n}@example.org"} for n in ("a", "b", "c")]
        )
        books = await uow.repository(Book).create_many(
            [
                {"author_id": a.id, "title": f"{a.name}{i}", "price_cents": i, "stock": i}
                for a in authors[:2]
                for i in range(3)
            ]
        )
        tags = await uow.repository(Tag).create_many([{"label": "x"}, {"label": "y"}])
        await uow.repository(BookTag).create_many(
            [{"book_id": b.id, "tag_id": t.id} for b in books[:2] for t in tags]
        )
    return store


@pytest.fixture
def counter(store: SQLStore, monkeypatch: pytest.MonkeyPatch) -> Iterator[Counter]:
    """Counts statements sent through SQLAlchemy and through the lean read path alike."""
    counter = Counter()
    lean_fetch = LeanConnection.fetch

    async def fetch(self: LeanConnection, read: ReadStatement, params: Any) -> Any:
        rows = await lean_fetch(self, read, params)
        if rows is not None:
            counter.statements.append(read.lean.text)
        return rows

    monkeypatch.setattr(LeanConnection, "fetch", fetch)
    event.listen(store.engine.sync_engine, "before_cursor_execute", counter)
    yield counter
    event.remove(store.engine.sync_engine, "before_cursor_execute", counter)


async def test_get_with_a_profile_costs_one_statement_per_relation(
    store: SQLStore, counter: Counter
) -> None:
    async with store.uow_factory(read_only=True) as uow:
        counter.take()
        author = await uow.repository(Author).get(1, profile="with_books")
        assert len(counter.take()) == 2  # the row, its books (the count reuses them)
        counted = await uow.repository(Author).get(1, profile="with_count")
        assert len(counter.take()) == 2  # the row, one GROUP BY count
        book = await uow.repository(Book).get(1, profile="with_tags")
        assert len(counter.take()) == 2
        plain = await uow.repository(Book).get(1)
        assert len(counter.take()) == 1
    assert author is not None
    assert counted is not None
    assert book is not None
    assert plain is not None
    assert (len(author.books), author.book_count, counted.book_count) == (3, 3, 3)
    assert ([t.label for t in book.tags], book.tag_count) == (["x", "y"], 2)


async def test_a_list_page_costs_one_statement_per_relation_not_per_row(
    store: SQLStore, counter: Counter
) -> None:
    async with store.uow_factory(read_only=True) as uow:
        counter.take()
        authors = await uow.repository(Author).list_with_query(QuerySpec(), profile="with_books")
        assert len(counter.take()) == 2
        books = await uow.repository(Book).list_with_query(QuerySpec(), profile="with_author")
        assert len(counter.take()) == 2
        tagged = await uow.repository(Book).list_with_query(QuerySpec(), profile="with_tags")
        assert len(counter.take()) == 2
    assert isinstance(authors, PageResult)
    assert [(a.name, a.book_count) for a in authors.items] == [("a", 3), ("b", 3), ("c", 0)]
    assert [b.author.name for b in books.items] == ["a"] * 3 + ["b"] * 3
    assert books.items[0].author is not books.items[1].author  # no shared objects
    assert [b.tag_count for b in tagged.items] == [2, 2, 0, 0, 0, 0]


async def test_an_offset_page_carries_its_total_in_the_same_statement(
    store: SQLStore, counter: Counter
) -> None:
    async with store.uow_factory(read_only=True) as uow:
        repo = uow.repository(Book)
        counter.take()
        page = await repo.list_with_query(QuerySpec(limit=4, sort=(SortSpec(field="title"),)))
        assert len(counter.take()) == 1
        beyond = await repo.list_with_query(QuerySpec(limit=4, page=5))
        assert len(counter.take()) == 2  # an empty page past the end counts separately
    assert isinstance(page, PageResult)
    assert isinstance(beyond, PageResult)
    assert (page.total_count, page.has_next, len(page.items)) == (6, True, 4)
    assert (beyond.total_count, beyond.items) == (6, [])


async def test_writes_take_one_statement_each(store: SQLStore, counter: Counter) -> None:
    async with store.uow_factory() as uow:
        repo = uow.repository(Author)
        counter.take()
        created = await repo.create({"name": "d", "email": "d@example.org"})
        assert len(counter.take()) == 1
        updated = await repo.update(created.id, {"bio": "written"})
        update_sql = counter.take()
        assert len(update_sql) == 1
        assert "RETURNING" in update_sql[0].upper()
        many = await repo.create_many(
            [{"name": n, "email": f"{n}@example.org"} for n in ("e", "f", "g")]
        )
        assert len(counter.take()) == 1
        assert await repo.delete(created.id) is True
        assert len(counter.take()) == 1
    assert updated is not None
    assert updated.bio == "written"
    assert [a.name for a in many] == ["e", "f", "g"]


async def test_fixed_statements_are_built_once_per_store(store: SQLStore) -> None:
    plan = store.context.plan(Author)
    async with store.uow_factory() as first:
        one = first.repository(Author)
        update = plan.update_for(frozenset({"bio"}))
        await one.update(1, {"bio": "x"})
    async with store.uow_factory() as second:
        two = second.repository(Author)
        await two.update(1, {"bio": "y"})
    assert one is not two
    assert one.plan is two.plan is plan  # type: ignore[attr-defined]
    assert plan.update_for(frozenset({"bio"})) is update
    assert plan.profile("with_books") is plan.profile("with_books")


async def test_create_many_in_several_statements_keeps_order_and_is_atomic(
    store: SQLStore, counter: Counter
) -> None:
    rows: list[dict[str, Any]] = [
        {"name": f"n{i:04d}", "email": f"bulk{i}@example.org"} for i in range(1200)
    ]
    rows[7]["created_at"] = EARLY  # another set of columns: a statement of its own
    async with store.uow_factory() as uow:
        repo = uow.repository(Author)
        counter.take()
        created = await repo.create_many(rows)
        sent = [s for s in counter.take() if s.lstrip().upper().startswith("INSERT")]
    assert [a.name for a in created] == [r["name"] for r in rows]
    assert created[7].created_at == EARLY
    assert created[8].created_at > EARLY
    assert len({a.id for a in created}) == 1200
    assert len(sent) == 4  # rows 0-6, row 7, rows 8-1007, rows 1008-1199
    clash = [
        {"name": "x", "email": "x@example.org", "created_at": EARLY},
        {"name": "y", "email": "a@example.org"},
    ]
    async with store.uow_factory() as uow:
        repo = uow.repository(Author)
        before = await repo.count()
        with pytest.raises(Conflict) as exc:
            await repo.create_many(clash)
        assert exc.value.fields == ("email",)
        assert await repo.count() == before  # the savepoint undid the first row
        await repo.create({"name": "z", "email": "z@example.org"})  # the transaction lives on
    async with store.uow_factory(read_only=True) as uow:
        assert await uow.repository(Author).exists({"email": "z@example.org"}) is True
        assert await uow.repository(Author).exists({"email": "x@example.org"}) is False
