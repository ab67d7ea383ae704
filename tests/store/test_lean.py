"""The lean read path on PostgreSQL: gets and list pages as asyncpg prepared statements.

Every test here proves something about *how* reads run (no SQLAlchemy execution, one
prepared statement per shape and connection, the unit of work's transaction) or that
the lean rows decode exactly as SQLAlchemy's do; the contract suite
(``test_contract_postgres.py``) runs on the lean path too.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime, time
from decimal import Decimal
from enum import IntEnum, StrEnum
from typing import Any, Literal
from uuid import UUID, uuid4

import msgspec
import pytest
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool
from tests.store.conftest import PG_URL, MakeStore, pg_store

from loom.core.config import DatabaseSettings
from loom.core.model import BaseModel, ColumnField
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
from loom.store._lean import STATEMENT_PREFIX
from loom.store.errors import StoreError, StoreUnavailable
from loom.store.sqlalchemy import RepositorySQLAlchemy, SQLUnitOfWork
from loom.store.store import SQLStore

pytestmark = pytest.mark.postgres
on_postgres = pytest.mark.parametrize("dialect", ["postgresql"], indirect=True)

MOMENT = datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)


class Hue(StrEnum):
    RED = "red"
    BLUE = "blue"


class Rank(IntEnum):
    LOW = 1
    HIGH = 2


class Box(msgspec.Struct):
    w: int
    h: int


class LeanItem(BaseModel, kw_only=True):
    __tablename__ = "lean_items"

    id: int = ColumnField(primary_key=True, autoincrement=True)
    name: str = ColumnField(length=40, index=True)
    note: str | None = None
    price: Decimal = Decimal("0")
    weight: float = 0.0
    active: bool = True
    born: date | None = None
    opens: time | None = None
    seen: datetime | None = None
    token: UUID = ColumnField(default_factory=uuid4)
    blob: bytes | None = None
    hue: Hue = Hue.RED
    rank: Rank = Rank.LOW
    size: Literal["S", "M", "L"] = "M"
    attrs: dict[str, Any] = ColumnField(default_factory=dict)
    box: Box | None = None


def _row(index: int) -> dict[str, Any]:
    return {
        "name": f"item-{index:02d}",
        "note": None if index % 3 == 0 else f"note {index}",
        "price": Decimal(f"{index}.25"),
        "weight": index / 4,
        "active": index % 2 == 0,
        "born": date(2020, 1, 1 + index) if index % 4 else None,
        "opens": time(8, index),
        "seen": MOMENT if index % 2 else None,
        "blob": bytes([index]) if index % 5 else None,
        "hue": Hue.BLUE if index % 2 else Hue.RED,
        "rank": Rank.HIGH if index > 5 else Rank.LOW,
        "size": "SML"[index % 3],
        "attrs": {"n": index, "tags": ["a", "b"][: index % 3]},
        "box": {"w": index, "h": 2 * index} if index % 2 else None,
    }


QUERIES = [
    QuerySpec(limit=5, sort=(SortSpec(field="price", direction="DESC"),)),
    QuerySpec(limit=4, page=2, sort=(SortSpec(field="note"), SortSpec(field="born"))),
    QuerySpec(
        filters=FilterGroup(
            filters=(
                FilterSpec(field="active", value=True),
                FilterGroup(
                    op="OR",
                    filters=(
                        FilterSpec(field="hue", op=FilterOp.IN, value=["blue", "red"]),
                        FilterSpec(field="note", op=FilterOp.IS_NULL, value=True),
                    ),
                ),
                FilterSpec(field="seen", op=FilterOp.IS_NULL, value=False),
            )
        ),
        sort=(SortSpec(field="name", direction="DESC"),),
    ),
    QuerySpec(
        filters=FilterGroup(filters=(FilterSpec(field="name", op=FilterOp.ILIKE, value="ITEM-1%"),))
    ),
    QuerySpec(filters=FilterGroup(filters=(FilterSpec(field="rank", op=FilterOp.IN, value=[]),))),
    QuerySpec(
        filters=FilterGroup(filters=(FilterSpec(field="seen", op=FilterOp.GTE, value=MOMENT),))
    ),
    QuerySpec(pagination=PaginationMode.CURSOR, limit=3, sort=(SortSpec(field="born"),)),
    QuerySpec(
        pagination=PaginationMode.CURSOR,
        limit=4,
        sort=(SortSpec(field="note", direction="DESC"), SortSpec(field="weight")),
        filters=FilterGroup(filters=(FilterSpec(field="price", op=FilterOp.LT, value=9),)),
    ),
]


class SQLAlchemyStatements(list[str]):
    """The statements that went through SQLAlchemy's execution (not the lean path)."""

    def __call__(self, conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        self.append(statement)


@pytest.fixture
async def store(make_store: MakeStore) -> SQLStore:
    store = await make_store([LeanItem])
    async with store.uow_factory() as uow:
        await uow.repository(LeanItem).create_many([_row(i) for i in range(1, 13)])
    return store


@pytest.fixture
async def plain_store(store: SQLStore, pg_schema: str) -> AsyncIterator[SQLStore]:
    """A second store on the same tables whose reads all go through SQLAlchemy."""
    plain = pg_store(pg_schema, [LeanItem], lean_reads=False, auto_create=False)
    await plain.start()
    yield plain
    await plain.stop()


@pytest.fixture
def through_sqlalchemy(store: SQLStore) -> Iterator[SQLAlchemyStatements]:
    seen = SQLAlchemyStatements()
    event.listen(store.engine.sync_engine, "before_cursor_execute", seen)
    yield seen
    event.remove(store.engine.sync_engine, "before_cursor_execute", seen)


async def _walk(uow: SQLUnitOfWork, query: QuerySpec) -> list[Any]:
    """Every page of ``query`` (following cursors), as built-in data."""
    repo = uow.repository(LeanItem)
    pages: list[Any] = []
    page = await repo.list_with_query(query)
    pages.append(msgspec.to_builtins(page))
    while isinstance(page, CursorResult) and page.next_cursor is not None:
        page = await repo.list_with_query(msgspec.structs.replace(query, cursor=page.next_cursor))
        pages.append(msgspec.to_builtins(page))
    return pages


async def _loom_statements(uow: SQLUnitOfWork) -> list[str]:
    result = await (await uow.connect()).execute(
        text(
            "SELECT statement FROM pg_prepared_statements "
            f"WHERE name LIKE '{STATEMENT_PREFIX}%' ORDER BY prepare_time"
        )
    )
    return [row[0] for row in result]


@on_postgres
async def test_gets_and_pages_run_as_prepared_statements_not_through_sqlalchemy(
    store: SQLStore, through_sqlalchemy: SQLAlchemyStatements
) -> None:
    async with store.uow_factory(read_only=True) as uow:
        repo = uow.repository(LeanItem)
        through_sqlalchemy.clear()
        got = await repo.get(3)
        for query in QUERIES:
            await _walk(uow, query)
        assert through_sqlalchemy == []  # not one read went through SQLAlchemy
        lean = await uow.lean()
        assert lean is not None
        prepared = lean.prepared
        server_side = await _loom_statements(uow)
    assert got is not None
    assert got.name == "item-03"
    assert sorted(server_side) == sorted(prepared)  # prepared on the server, by loom
    assert any("WHERE lean_items.id = $1::BIGINT" in sql for sql in prepared)
    assert any("count(*) OVER ()" in sql and "ILIKE $1::VARCHAR" in sql for sql in prepared)
    assert all("$" in sql for sql in prepared)  # positional parameters, never values
    assert not any("ITEM-1" in sql or "item-" in sql for sql in prepared)


@on_postgres
async def test_each_shape_is_prepared_once_per_connection(store: SQLStore) -> None:
    def by_name(name: str) -> QuerySpec:
        return QuerySpec(filters=FilterGroup(filters=(FilterSpec(field="name", value=name),)))

    plan = store.context.plan(LeanItem)
    async with store.uow_factory(read_only=True) as uow:
        repo = uow.repository(LeanItem)
        for key in (1, 2, 3):
            await repo.get(key)
        first = await repo.list_with_query(by_name("item-01"))
        second = await repo.list_with_query(by_name("item-02"))
        shapes = len(plan.pages)
        lean = await uow.lean()
        assert lean is not None
        assert len(lean.prepared) == 2  # the get, the page: values do not make new SQL
        three = QuerySpec(
            filters=FilterGroup(
                filters=(FilterSpec(field="name", op=FilterOp.IN, value=["a", "b", "c"]),)
            )
        )
        await repo.list_with_query(three)
        assert len(lean.prepared) == 3  # another shape, another statement
        assert len(await _loom_statements(uow)) == 3
    assert isinstance(first, PageResult)
    assert isinstance(second, PageResult)
    assert [i.name for i in first.items] == ["item-01"]
    assert [i.name for i in second.items] == ["item-02"]
    assert len(plan.pages) == shapes + 1
    async with store.uow_factory(read_only=True) as uow:  # the pooled connection keeps them
        await uow.repository(LeanItem).get(4)
        lean = await uow.lean()
        assert lean is not None
        assert len(lean.prepared) == 3


@on_postgres
async def test_lean_rows_decode_exactly_as_sqlalchemy_rows(
    store: SQLStore, plain_store: SQLStore
) -> None:
    results: list[list[Any]] = []
    for each in (store, plain_store):
        async with each.uow_factory(read_only=True) as uow:
            repo = uow.repository(LeanItem)
            found = [await repo.get(key) for key in range(1, 14)]
            pages = [await _walk(uow, query) for query in QUERIES]
            lean = await uow.lean()
            assert (lean is not None) is (each is store)
        results.append([found, pages])
    lean_result, plain_result = results
    assert lean_result == plain_result
    item = lean_result[0][0]
    assert isinstance(item, LeanItem)
    assert isinstance(item.hue, Hue)
    assert isinstance(item.rank, Rank)
    assert isinstance(item.token, UUID)
    assert isinstance(item.box, Box)
    assert item.seen == MOMENT
    assert item.seen is not None
    assert item.seen.tzinfo is UTC
    assert lean_result[0][-1] is None  # id 13 does not exist


@on_postgres
async def test_statements_it_does_not_build_go_through_sqlalchemy(
    store: SQLStore, through_sqlalchemy: SQLAlchemyStatements
) -> None:
    async with store.uow_factory(read_only=True) as uow:
        repo = uow.repository(LeanItem)
        assert isinstance(repo, RepositorySQLAlchemy)
        through_sqlalchemy.clear()
        expensive = await repo.fetch_all(repo.select().where(repo.table.c.price > 10))
        assert len(through_sqlalchemy) == 1
        assert await repo.count() == 12
        assert len(through_sqlalchemy) == 2
    assert [i.name for i in expensive] == ["item-10", "item-11", "item-12"]


@on_postgres
async def test_a_first_lean_read_opens_a_writable_unit_of_works_transaction(
    store: SQLStore,
) -> None:
    async with store.uow_factory() as uow:
        assert await uow.repository(LeanItem).get(1) is not None
        raw = await uow.connection.get_raw_connection()
        assert raw.driver_connection.is_in_transaction()
        read_only = await uow.connection.scalar(text("SHOW transaction_read_only"))
        started = await uow.connection.scalar(
            text("SELECT xact_start = now() FROM pg_stat_activity WHERE pid = pg_backend_pid()")
        )
    assert read_only == "off"
    assert started is True


@on_postgres
async def test_read_only_lean_reads_at_read_committed_need_no_transaction(
    store: SQLStore, through_sqlalchemy: SQLAlchemyStatements
) -> None:
    async with store.uow_factory(read_only=True) as uow:
        repo = uow.repository(LeanItem)
        assert await repo.get(1) is not None
        page = await repo.list_with_query(QuerySpec(limit=2))
        assert [i.name for i in page.items] == ["item-01", "item-02"]
        raw = await uow.connection.get_raw_connection()
        assert not raw.driver_connection.is_in_transaction()  # no BEGIN, no COMMIT
        assert through_sqlalchemy == []
        # a statement through SQLAlchemy still runs in a READ ONLY transaction
        read_only = await uow.connection.scalar(text("SHOW transaction_read_only"))
        assert raw.driver_connection.is_in_transaction()
    assert read_only == "on"


@on_postgres
async def test_read_only_lean_reads_keep_a_transaction_above_read_committed(
    store: SQLStore, pg_schema: str
) -> None:
    server_settings = {"search_path": pg_schema, "default_transaction_isolation": "repeatable read"}
    repeatable = SQLStore(
        DatabaseSettings(url=PG_URL, auto_create=False),
        models=[LeanItem],
        secret=b"k",
        engine_options={"connect_args": {"server_settings": server_settings}},
    )
    await repeatable.start()
    try:
        async with repeatable.uow_factory(read_only=True) as uow:
            assert await uow.repository(LeanItem).get(1) is not None
            raw = await uow.connection.get_raw_connection()
            assert raw.driver_connection.is_in_transaction()
    finally:
        await repeatable.stop()


async def test_sql_echo_and_the_option_turn_the_lean_path_off(pg_schema: str) -> None:
    echoing = SQLStore(DatabaseSettings(url=PG_URL, echo=True), models=[LeanItem], secret=b"k")
    assert echoing.context.lean_reads is False
    assert pg_store(pg_schema, [LeanItem], lean_reads=False).context.lean_reads is False
    assert pg_store(pg_schema, [LeanItem]).context.lean_reads is True


@on_postgres
async def test_a_lost_connection_is_unavailable_and_the_pool_recovers(store: SQLStore) -> None:
    admin = create_async_engine(PG_URL, poolclass=NullPool)
    failure: BaseException | None = None
    try:
        async with store.uow_factory(read_only=True) as uow:
            repo = uow.repository(LeanItem)
            assert await repo.get(1) is not None
            pid = await uow.connection.scalar(text("SELECT pg_backend_pid()"))
            async with admin.connect() as connection:
                await connection.execute(text(f"SELECT pg_terminate_backend({int(pid)})"))
            await repo.get(2)
    except StoreUnavailable as exc:
        failure = exc
    finally:
        await admin.dispose()
    assert isinstance(failure, StoreUnavailable)
    async with store.uow_factory(read_only=True) as uow:
        again = await uow.repository(LeanItem).get(2)
    assert again is not None


@on_postgres
async def test_a_statement_made_stale_by_a_schema_change_fails_once(
    store: SQLStore, pg_schema: str
) -> None:
    async with store.uow_factory(read_only=True) as uow:
        assert await uow.repository(LeanItem).get(1) is not None
    admin = create_async_engine(
        PG_URL,
        poolclass=NullPool,
        connect_args={"server_settings": {"search_path": pg_schema}},
    )
    try:
        async with admin.begin() as connection:
            await connection.execute(text("ALTER TABLE lean_items ALTER COLUMN name TYPE TEXT"))
    finally:
        await admin.dispose()
    with pytest.raises(StoreError):
        async with store.uow_factory(read_only=True) as uow:
            await uow.repository(LeanItem).get(1)
    async with store.uow_factory(read_only=True) as uow:
        again = await uow.repository(LeanItem).get(1)
    assert again is not None
    assert again.name == "item-01"
