"""User input is data, never SQL text: every operator, sort, and LIKE wildcard."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event
from tests.store.conftest import DIALECTS, MakeStore

from loom.core.errors import ValidationError
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
from loom.store.store import SQLStore

pytestmark = pytest.mark.parametrize("dialect", DIALECTS, indirect=True)

DROP = "x'); DROP TABLE safety_sentinels; --"
QUOTE = "O'Reilly \" \\ ; --"
TITLES = (
    DROP,
    QUOTE,
    "1 OR 1=1",
    "100%",
    "100 percent",
    "a_b",
    "axb",
    "a*b",
    "aXXb",
    "a?c",
    "abc",
    "[ab]",
    "a",
    "Alpha",
)


class SafetyMemo(BaseModel, kw_only=True):
    __tablename__ = "safety_memos"

    id: int = ColumnField(primary_key=True, autoincrement=True)
    title: str = ColumnField(length=80)
    body: str | None = None


class SafetySentinel(BaseModel, kw_only=True):
    __tablename__ = "safety_sentinels"

    id: int = ColumnField(primary_key=True, autoincrement=True)
    note: str


class Statements:
    """Every SQL text sent to the database while attached (parameters kept apart)."""

    def __init__(self) -> None:
        self.sql: list[str] = []
        self.params: list[Any] = []

    def __call__(self, conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        self.sql.append(statement)
        self.params.append(params)


@pytest.fixture
async def store(make_store: MakeStore) -> SQLStore:
    store = await make_store([SafetyMemo, SafetySentinel])
    async with store.uow_factory() as uow:
        await uow.repository(SafetyMemo).create_many(
            [{"title": t, "body": None if i % 3 else t} for i, t in enumerate(TITLES)]
        )
        await uow.repository(SafetySentinel).create({"note": "still here"})
    return store


@pytest.fixture
def statements(store: SQLStore) -> Iterator[Statements]:
    seen = Statements()
    event.listen(store.engine.sync_engine, "before_cursor_execute", seen)
    yield seen
    event.remove(store.engine.sync_engine, "before_cursor_execute", seen)


def _where(field: str, op: FilterOp, value: Any) -> FilterGroup:
    return FilterGroup(filters=(FilterSpec(field=field, op=op, value=value),))


async def _titles(store: SQLStore, group: FilterGroup, **query: Any) -> list[str]:
    async with store.uow_factory(read_only=True) as uow:
        page = await uow.repository(SafetyMemo).list_with_query(
            QuerySpec(filters=group, limit=100, **query)
        )
    assert isinstance(page, PageResult | CursorResult)
    return [m.title for m in page.items]


async def _intact(store: SQLStore) -> None:
    async with store.uow_factory(read_only=True) as uow:
        assert await uow.repository(SafetyMemo).count() == len(TITLES)
        sentinels = await uow.repository(SafetySentinel).list_with_query(QuerySpec())
    assert [s.note for s in sentinels.items] == ["still here"]


INJECTED: list[tuple[FilterOp, Any, set[str]]] = [
    (FilterOp.EQ, DROP, {DROP}),
    (FilterOp.EQ, QUOTE, {QUOTE}),
    (FilterOp.NE, DROP, set(TITLES) - {DROP}),
    (FilterOp.IN, [DROP, QUOTE, "1 OR 1=1", "nothing"], {DROP, QUOTE, "1 OR 1=1"}),
    (FilterOp.LIKE, DROP, {DROP}),
    (FilterOp.ILIKE, DROP.upper(), {DROP}),
    (FilterOp.LIKE, "%DROP TABLE%", {DROP}),
    (FilterOp.GT, DROP, {t for t in TITLES if t > DROP}),
    (FilterOp.GTE, DROP, {t for t in TITLES if t >= DROP}),
    (FilterOp.LT, QUOTE, {t for t in TITLES if t < QUOTE}),
    (FilterOp.LTE, QUOTE, {t for t in TITLES if t <= QUOTE}),
]


@pytest.mark.parametrize(("op", "value", "expected"), INJECTED)
async def test_sql_looking_values_are_bound_never_spliced(
    store: SQLStore, statements: Statements, op: FilterOp, value: Any, expected: set[str]
) -> None:
    assert set(await _titles(store, _where("title", op, value))) == expected
    async with store.uow_factory(read_only=True) as uow:
        repo = uow.repository(SafetyMemo)
        assert await repo.count(_where("title", op, value)) == len(expected)
        assert await repo.exists(_where("title", op, value)) is bool(expected)
    sent = "\n".join(statements.sql)
    assert "DROP TABLE" not in sent
    assert "O'Reilly" not in sent
    await _intact(store)


async def test_sorting_and_cursors_over_sql_looking_text(
    store: SQLStore, statements: Statements
) -> None:
    asc = await _titles(store, FilterGroup(), sort=(SortSpec(field="title"),))
    desc = await _titles(store, FilterGroup(), sort=(SortSpec(field="title", direction="DESC"),))
    assert asc == sorted(TITLES)
    assert desc == sorted(TITLES, reverse=True)
    walked: list[str] = []
    cursor: str | None = None
    for _ in range(len(TITLES)):
        async with store.uow_factory(read_only=True) as uow:
            page = await uow.repository(SafetyMemo).list_with_query(
                QuerySpec(
                    sort=(SortSpec(field="body", direction="DESC"), SortSpec(field="title")),
                    pagination=PaginationMode.CURSOR,
                    limit=3,
                    cursor=cursor,
                )
            )
        assert isinstance(page, CursorResult)
        walked.extend(m.title for m in page.items)
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    bodies = {t: (None if i % 3 else t) for i, t in enumerate(TITLES)}
    nulls = sorted(t for t in TITLES if bodies[t] is None)
    valued = sorted((t for t in TITLES if bodies[t] is not None), key=lambda t: bodies[t] or "")
    assert walked == nulls + valued[::-1]  # DESC puts NULLs first
    assert "DROP TABLE" not in "\n".join(statements.sql)
    await _intact(store)


LIKE_DATA: list[tuple[FilterOp, str, set[str]]] = [
    (FilterOp.LIKE, "100\\%", {"100%"}),
    (FilterOp.LIKE, "100%", {"100%", "100 percent"}),
    (FilterOp.LIKE, "%\\%", {"100%"}),
    (FilterOp.LIKE, "a\\_b", {"a_b"}),
    (FilterOp.LIKE, "a_b", {"a_b", "axb", "a*b"}),
    (FilterOp.LIKE, "a*b", {"a*b"}),
    (FilterOp.LIKE, "a?c", {"a?c"}),
    (FilterOp.LIKE, "[ab]", {"[ab]"}),
    (FilterOp.LIKE, "[%", {"[ab]"}),
    (FilterOp.LIKE, "a%", {"a_b", "axb", "a*b", "aXXb", "a?c", "abc", "a"}),
    (FilterOp.LIKE, "A%", {"Alpha"}),
    (FilterOp.ILIKE, "A%", {"a_b", "axb", "a*b", "aXXb", "a?c", "abc", "a", "Alpha"}),
    (FilterOp.ILIKE, "A*B", {"a*b"}),
    (FilterOp.ILIKE, "AX_B", {"aXXb"}),
    (FilterOp.LIKE, "ax_b", set()),
    (FilterOp.LIKE, "o\\'reilly%", set()),
    (FilterOp.ILIKE, "o\\'reilly%", {QUOTE}),
]


@pytest.mark.parametrize(("op", "pattern", "expected"), LIKE_DATA)
async def test_like_wildcards_given_as_data_are_escaped(
    store: SQLStore, op: FilterOp, pattern: str, expected: set[str]
) -> None:
    assert set(await _titles(store, _where("title", op, pattern))) == expected


BAD_QUERIES: list[tuple[QuerySpec, str]] = [
    (QuerySpec(filters=_where("title; DROP TABLE safety_memos", FilterOp.EQ, "x")), "filters."),
    (QuerySpec(filters=_where("nope", FilterOp.EQ, "x")), "filters.nope"),
    (QuerySpec(sort=(SortSpec(field="title DESC; --"),)), "sort."),
    (QuerySpec(sort=(SortSpec(field="missing"),)), "sort.missing"),
    (QuerySpec(filters=_where("id", FilterOp.EQ, "1 OR 1=1")), "filters.id"),
    (QuerySpec(filters=_where("title", FilterOp.LIKE, "ends with \\")), "filters.title"),
]


@pytest.mark.parametrize(("query", "field"), BAD_QUERIES)
async def test_unknown_fields_fail_before_any_sql_runs(
    store: SQLStore, statements: Statements, query: QuerySpec, field: str
) -> None:
    async with store.uow_factory(read_only=True) as uow:
        repo = uow.repository(SafetyMemo)
        before = len(statements.sql)
        with pytest.raises(ValidationError) as listed:
            await repo.list_with_query(query)
        if query.filters is not None:
            with pytest.raises(ValidationError):
                await repo.count(query.filters)
            with pytest.raises(ValidationError):
                await repo.exists(query.filters)
        assert len(statements.sql) == before
    assert any(e.field.startswith(field) for e in listed.value.errors)
    await _intact(store)


async def test_sql_looking_writes_are_stored_verbatim(store: SQLStore) -> None:
    async with store.uow_factory() as uow:
        repo = uow.repository(SafetyMemo)
        memo = await repo.create({"title": DROP, "body": QUOTE})
        updated = await repo.update(memo.id, {"body": DROP})
        assert await repo.exists({"title": DROP, "body": DROP}) is True
    assert updated is not None
    assert (updated.title, updated.body) == (DROP, DROP)
    async with store.uow_factory(read_only=True) as uow:
        assert await uow.repository(SafetySentinel).count() == 1
