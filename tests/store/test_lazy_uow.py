"""Units of work connect lazily: no checkout, BEGIN or COMMIT until a statement needs one.

Checkouts are counted with SQLAlchemy's pool ``checkout`` event and transactions seen
through the connection itself; callbacks, read-only transactions and error translation
must behave exactly as they do for a unit of work that connected on entry.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import msgspec
import pytest
from sqlalchemy import event, text
from tests.contract.models import CONTRACT_MODELS, Author, Book, BookTag, Tag
from tests.store.conftest import DIALECTS, PG_URL, MakeStore, pg_store

from loom.core.config import DatabaseSettings
from loom.core.errors import ServiceUnavailable, http_status_for
from loom.core.repository.abc.query import PageResult, PaginationMode, QuerySpec
from loom.store.errors import ReadOnlyError, StoreUnavailable
from loom.store.store import SQLStore

both = pytest.mark.parametrize("dialect", DIALECTS, indirect=True)
on_postgres = pytest.mark.parametrize(
    "dialect", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)


class Checkouts:
    """Counts the connections the store's pool hands out."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, *_: Any) -> None:
        self.count += 1


@pytest.fixture
async def store(make_store: MakeStore) -> SQLStore:
    return await make_store(CONTRACT_MODELS)


@pytest.fixture
def checkouts(store: SQLStore) -> Iterator[Checkouts]:
    counter = Checkouts()
    event.listen(store.engine.sync_engine.pool, "checkout", counter)
    yield counter
    event.remove(store.engine.sync_engine.pool, "checkout", counter)


@both
async def test_a_unit_of_work_without_statements_checks_nothing_out(
    store: SQLStore, checkouts: Checkouts
) -> None:
    for read_only in (False, True):
        async with store.uow_factory(read_only=read_only) as uow:
            assert uow.active
            assert not uow.connected
            uow.repository(Author)  # building a repository is not a statement
            with pytest.raises(RuntimeError, match="not connected"):
                _ = uow.connection
        assert not uow.active
    assert checkouts.count == 0
    assert store.engine.sync_engine.pool.checkedout() == 0  # type: ignore[attr-defined]


@both
async def test_after_commit_callbacks_run_without_a_connection(
    store: SQLStore, checkouts: Checkouts
) -> None:
    ran: list[str] = []

    async def before() -> None:
        ran.append("before")

    async def after() -> None:
        ran.append("after")

    async with store.uow_factory(read_only=True) as uow:
        uow.before_commit(before)
        uow.after_commit(after)
        assert ran == []
    assert ran == ["before", "after"]
    assert checkouts.count == 0


@both
async def test_callbacks_are_dropped_when_an_unconnected_unit_of_work_fails(
    store: SQLStore,
) -> None:
    ran: list[str] = []

    async def after() -> None:
        ran.append("after")

    async def work() -> None:
        async with store.uow_factory() as uow:
            uow.after_commit(after)
            raise LookupError

    with pytest.raises(LookupError):
        await work()
    assert ran == []


@both
async def test_a_before_commit_write_connects_and_commits(
    store: SQLStore, checkouts: Checkouts
) -> None:
    async with store.uow_factory() as uow:

        async def write() -> None:
            await uow.repository(Author).create({"name": "Late", "email": "late@example.org"})

        uow.before_commit(write)
        assert not uow.connected
    assert checkouts.count == 1
    async with store.uow_factory(read_only=True) as uow:
        assert await uow.repository(Author).count() == 1


@both
async def test_the_first_operation_connects_once(store: SQLStore, checkouts: Checkouts) -> None:
    async with store.uow_factory() as uow:
        repo = uow.repository(Author)
        created = await repo.create({"name": "A", "email": "a@example.org"})
        assert uow.connected
        connection = await uow.connect()
        assert uow.connection is connection
        assert await repo.get(created.id) == created
        page = await repo.list_with_query(QuerySpec(limit=5))
        assert isinstance(page, PageResult)
        assert page.total_count == 1
    assert checkouts.count == 1
    assert store.engine.sync_engine.pool.checkedout() == 0  # type: ignore[attr-defined]


@both
async def test_a_read_only_unit_of_work_still_refuses_writes(store: SQLStore) -> None:
    async with store.uow_factory(read_only=True) as uow:
        with pytest.raises(ReadOnlyError):
            await uow.repository(Author).create({"name": "A", "email": "a@example.org"})
        assert not uow.connected  # refused before any SQL


@both
async def test_reads_only_units_of_work_leave_no_transaction_behind(store: SQLStore) -> None:
    async with store.uow_factory() as uow:
        author = await uow.repository(Author).create({"name": "A", "email": "a@example.org"})
    for _ in range(3):
        async with store.uow_factory(read_only=True) as uow:
            assert await uow.repository(Author).get(author.id) == author
            await uow.repository(Author).list_with_query(
                QuerySpec(pagination=PaginationMode.CURSOR, limit=1)
            )
    async with store.engine.connect() as connection:
        raw = await connection.get_raw_connection()
        if store.dialect == "postgresql":
            driver: Any = raw.driver_connection
            assert not driver.is_in_transaction()
        assert not connection.in_transaction()
    # a write after reads in one unit of work commits them together
    async with store.uow_factory() as uow:
        repo = uow.repository(Author)
        assert await repo.get(author.id) is not None
        await repo.update(author.id, {"name": "B"})
    async with store.uow_factory(read_only=True) as uow:
        stored = await uow.repository(Author).get(author.id)
        assert stored is not None
        assert stored.name == "B"


@both
async def test_a_store_that_cannot_connect_fails_at_the_first_operation(
    dialect: str, tmp_path: Any
) -> None:
    if dialect == "postgresql":
        store = SQLStore(
            DatabaseSettings(
                url=PG_URL.replace(":5432", ":1"), connect_timeout=2, auto_create=False
            ),
            models=CONTRACT_MODELS,
            secret=b"k",
        )
    else:
        store = SQLStore(
            DatabaseSettings(
                url=f"sqlite+aiosqlite:///{tmp_path}/missing/dir/db.sqlite", auto_create=False
            ),
            models=CONTRACT_MODELS,
            secret=b"k",
        )
    await store.start()
    try:
        ran: list[str] = []

        async def after() -> None:
            ran.append("after")

        async def work() -> None:
            async with store.uow_factory(read_only=True) as uow:
                uow.after_commit(after)
                await uow.repository(Author).get(1)

        with pytest.raises(StoreUnavailable) as caught:
            await work()
        assert isinstance(caught.value, ServiceUnavailable)
        assert http_status_for(caught.value) == 503
        assert ran == []
        async with store.uow_factory() as uow:
            with pytest.raises(StoreUnavailable):
                await uow.connect()
            assert not uow.connected
    finally:
        await store.stop()


@on_postgres
@pytest.mark.parametrize("lean_reads", [True, False])
async def test_read_only_transactions_are_read_only_on_postgresql(
    store: SQLStore, pg_schema: str, lean_reads: bool
) -> None:
    reader = pg_store(pg_schema, CONTRACT_MODELS, lean_reads=lean_reads, auto_create=False)
    await reader.start()
    try:
        async with reader.uow_factory(read_only=True) as uow:
            await uow.repository(Author).get(1)
            setting = await uow.connection.scalar(text("SHOW transaction_read_only"))
        assert setting == "on"
        async with reader.uow_factory(read_only=True) as uow:
            connection = await uow.connect()
            assert await connection.scalar(text("SHOW transaction_read_only")) == "on"
        async with reader.uow_factory() as uow:
            connection = await uow.connect()
            assert await connection.scalar(text("SHOW transaction_read_only")) == "off"
    finally:
        await reader.stop()


async def _catalogue(store: SQLStore) -> list[int]:
    async with store.uow_factory() as uow:
        authors = await uow.repository(Author).create_many(
            [{"name": f"Author {i}", "email": f"a{i}@example.org"} for i in range(3)]
        )
        books = await uow.repository(Book).create_many(
            [
                {
                    "author_id": author.id,
                    "title": f"{author.name} #{n}",
                    "price_cents": n,
                    "stock": 1,
                }
                for author in authors[:2]
                for n in range(3, 0, -1)
            ]
        )
        tags = await uow.repository(Tag).create_many([{"label": "b"}, {"label": "a"}])
        await uow.repository(BookTag).create_many(
            [
                {"book_id": books[0].id, "tag_id": tags[0].id},
                {"book_id": books[0].id, "tag_id": tags[1].id},
                {"book_id": books[1].id, "tag_id": tags[1].id},
            ]
        )
    return [author.id for author in authors]


async def _profiles(store: SQLStore, author_ids: list[int]) -> list[Any]:
    """Every profile of the catalogue, read through gets and both kinds of page."""
    seen: list[Any] = []
    async with store.uow_factory(read_only=True) as uow:
        authors, books = uow.repository(Author), uow.repository(Book)
        for profile in ("with_books", "with_count"):
            seen += [await authors.get(key, profile=profile) for key in author_ids]
            seen.append(await authors.list_with_query(QuerySpec(limit=2, page=1), profile=profile))
        for profile in ("with_author", "with_tags"):
            page = await books.list_with_query(
                QuerySpec(pagination=PaginationMode.CURSOR, limit=4), profile=profile
            )
            seen.append(page)
            seen.append(await books.get(page.items[0].id, profile=profile))
    found: list[Any] = msgspec.to_builtins(seen)
    return found


@on_postgres
async def test_relations_on_the_lean_path_equal_those_through_sqlalchemy(
    store: SQLStore, pg_schema: str
) -> None:
    author_ids = await _catalogue(store)
    through_sqlalchemy: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        through_sqlalchemy.append(statement)

    event.listen(store.engine.sync_engine, "before_cursor_execute", record)
    try:
        lean = await _profiles(store, author_ids)
    finally:
        event.remove(store.engine.sync_engine, "before_cursor_execute", record)
    assert through_sqlalchemy == []  # gets, pages, relations and counts: all lean
    plain = pg_store(pg_schema, CONTRACT_MODELS, lean_reads=False, auto_create=False)
    await plain.start()
    try:
        assert await _profiles(plain, author_ids) == lean
    finally:
        await plain.stop()
    assert lean[0]["books"][0]["title"] == "Author 0 #3"  # ordered by id
    assert lean[0]["book_count"] == 3
