"""List pages on PostgreSQL: loom's repository against raw asyncpg, in one run, on one
connection each. Goal: the repository reaches at least 0.6x the pages/s of raw asyncpg.

The page: 50 rows of a 10,000-row table (in a scratch schema, dropped at the end),
filtered (``category = $1 AND price_cents >= $2``) and sorted (``price_cents DESC``, then
``id``), once as an offset page with its total (``count(*) OVER ()``, the third page) and
once as keyset pages, walked with the cursor each page returns. Raw asyncpg runs the same
SQL, written by hand, and keeps its ``Record`` objects; the repository returns model
structs and signed cursors. Prints figures, asserts nothing; exits 0 with a message when
PostgreSQL is unreachable.

Run: .venv/bin/python tools/bench/store_list.py [--pages N] [--url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from datetime import UTC, datetime
from typing import Any

import asyncpg
import msgspec

from loom.core.config import DatabaseSettings
from loom.core.model import ColumnField, TimestampedModel
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

DEFAULT_URL = os.environ.get("LOOM_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
ROWS = 10_000
LIMIT = 50
GOAL = 0.6
CATEGORY, MIN_PRICE = "c3", 1_000


class BenchProduct(TimestampedModel, kw_only=True):
    __tablename__ = "bench_products"

    id: int = ColumnField(primary_key=True, autoincrement=True)
    sku: str = ColumnField(length=20, unique=True)
    name: str = ColumnField(length=80)
    category: str = ColumnField(length=20, index=True)
    price_cents: int = ColumnField(index=True)
    stock: int
    active: bool = True


FILTERS = FilterGroup(
    filters=(
        FilterSpec(field="category", value=CATEGORY),
        FilterSpec(field="price_cents", op=FilterOp.GTE, value=MIN_PRICE),
    )
)
SORT = (SortSpec(field="price_cents", direction="DESC"),)
OFFSET_QUERY = QuerySpec(filters=FILTERS, sort=SORT, limit=LIMIT, page=3)
CURSOR_QUERY = QuerySpec(filters=FILTERS, sort=SORT, limit=LIMIT, pagination=PaginationMode.CURSOR)

Page = Callable[[], Awaitable[int]]


async def reachable(dsn: str) -> str | None:
    """``None`` when PostgreSQL answers, else why not."""
    try:
        connection = await asyncpg.connect(dsn, timeout=3)
    except (TimeoutError, OSError, asyncpg.PostgresError) as exc:
        return f"{type(exc).__name__}: {exc}"
    await connection.close()
    return None


def store_for(dsn: str, schema: str, *, lean_reads: bool = True) -> SQLStore:
    url = dsn.replace("postgresql://", "postgresql+asyncpg://", 1)
    return SQLStore(
        DatabaseSettings(url=url, pool_size=1, max_overflow=0, auto_create=False),
        models=[BenchProduct],
        secret=b"bench",
        engine_options={"connect_args": {"server_settings": {"search_path": schema}}},
        lean_reads=lean_reads,
    )


async def measure(variants: dict[str, Page], pages: int, chunk: int) -> dict[str, float]:
    """Median seconds per page of each variant, its chunks interleaved with the others'."""
    for page in variants.values():
        for _ in range(50):
            await page()
    seen: dict[str, list[float]] = {label: [] for label in variants}
    for _ in range(0, pages, chunk):
        for label, page in variants.items():
            started = time.perf_counter()
            for _ in range(chunk):
                if not await page():
                    raise SystemExit(f"{label}: an empty page")
            seen[label].append((time.perf_counter() - started) / chunk)
    return {label: statistics.median(times) for label, times in seen.items()}


def show(label: str, per: float) -> None:
    print(f"  {label:<40} {per * 1e6:8.1f} µs/page {1 / per:8,.0f} pages/s")


def offset_page(repo: Any) -> Page:
    async def page() -> int:
        result = await repo.list_with_query(OFFSET_QUERY)
        assert isinstance(result, PageResult)
        return len(result.items)

    return page


def cursor_walk(repo: Any) -> Page:
    """Each call reads the next keyset page; after the last one the walk starts over."""
    state: dict[str, str | None] = {"cursor": None}

    async def page() -> int:
        query = CURSOR_QUERY
        if state["cursor"] is not None:
            query = msgspec.structs.replace(CURSOR_QUERY, cursor=state["cursor"])
        result = await repo.list_with_query(query)
        assert isinstance(result, CursorResult)
        state["cursor"] = result.next_cursor
        return len(result.items)

    return page


def raw_pages(connection: asyncpg.Connection, columns: str) -> tuple[Page, Page]:
    where = "category = $1 AND price_cents >= $2"
    order = "ORDER BY price_cents DESC, id ASC"
    offset_sql = (
        f"SELECT {columns}, count(*) OVER () AS total FROM bench_products "
        f"WHERE {where} {order} LIMIT $3 OFFSET $4"
    )
    first_sql = f"SELECT {columns} FROM bench_products WHERE {where} {order} LIMIT $3"
    next_sql = (
        f"SELECT {columns} FROM bench_products WHERE {where} "
        f"AND (price_cents < $3 OR (price_cents = $3 AND id > $4)) {order} LIMIT $5"
    )
    state: dict[str, tuple[int, int] | None] = {"after": None}

    async def offset() -> int:
        rows = await connection.fetch(offset_sql, CATEGORY, MIN_PRICE, LIMIT, 2 * LIMIT)
        return len(rows) if rows and rows[0]["total"] > 2 * LIMIT else 0

    async def keyset() -> int:
        after = state["after"]
        if after is None:
            rows = await connection.fetch(first_sql, CATEGORY, MIN_PRICE, LIMIT + 1)
        else:
            rows = await connection.fetch(next_sql, CATEGORY, MIN_PRICE, *after, LIMIT + 1)
        page = rows[:LIMIT]
        last = page[-1]
        state["after"] = (last["price_cents"], last["id"]) if len(rows) > LIMIT else None
        return len(page)

    return offset, keyset


async def bench(dsn: str, pages: int, chunk: int) -> None:
    schema = f"loom_bench_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(dsn)
    await admin.execute(f'CREATE SCHEMA "{schema}"')
    try:
        await run(dsn, schema, pages, chunk)
    finally:
        await admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
        await admin.close()


async def run(dsn: str, schema: str, pages: int, chunk: int) -> None:
    store = store_for(dsn, schema)
    plain = store_for(dsn, schema, lean_reads=False)
    await store.start()
    await plain.start()
    await store.create_all()
    now = datetime.now(UTC)
    chance = random.Random(11)
    async with store.uow_factory() as uow:
        await uow.repository(BenchProduct).create_many(
            [
                {
                    "sku": f"SKU-{i:06d}",
                    "name": f"Product {i}",
                    "category": f"c{i % 10}",
                    "price_cents": chance.randrange(100, 100_000),
                    "stock": i % 40,
                    "created_at": now,
                    "updated_at": now,
                }
                for i in range(1, ROWS + 1)
            ]
        )
    raw = await asyncpg.connect(dsn, server_settings={"search_path": schema})
    await raw.execute("ANALYZE bench_products")
    version = ".".join(str(part) for part in raw.get_server_version()[:2])
    table = store.catalog.table(BenchProduct)
    raw_offset, raw_keyset = raw_pages(raw, ", ".join(c.name for c in table.c))
    print(
        f"{LIMIT}-row pages on PostgreSQL {version} ({ROWS:,} rows, filter category + price, "
        f"sort -price_cents): {pages:,} pages per variant, one connection each, in chunks of "
        f"{chunk} taken in turns (median chunk shown)"
    )
    async with AsyncExitStack() as stack:
        lean = (await stack.enter_async_context(store.uow_factory(read_only=True))).repository(
            BenchProduct
        )
        off = (await stack.enter_async_context(plain.uow_factory(read_only=True))).repository(
            BenchProduct
        )
        figures = await measure(
            {
                "raw asyncpg, offset page + total": raw_offset,
                "repository, offset page + total": offset_page(lean),
                "repository (lean off), offset page": offset_page(off),
                "raw asyncpg, keyset page": raw_keyset,
                "repository, cursor page": cursor_walk(lean),
                "repository (lean off), cursor page": cursor_walk(off),
            },
            pages,
            chunk,
        )
    for label, per in figures.items():
        show(label, per)
    await raw.close()
    await plain.stop()
    await store.stop()
    offset_ratio = (
        figures["raw asyncpg, offset page + total"] / figures["repository, offset page + total"]
    )
    cursor_ratio = figures["raw asyncpg, keyset page"] / figures["repository, cursor page"]
    print(f"repository / raw asyncpg, offset: {offset_ratio:.2f}x the pages/s (goal >= {GOAL}x)")
    print(f"repository / raw asyncpg, cursor: {cursor_ratio:.2f}x the pages/s (goal >= {GOAL}x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=2_000, help="pages per variant")
    parser.add_argument("--chunk", type=int, default=100, help="pages per turn")
    parser.add_argument("--url", default=DEFAULT_URL, help="PostgreSQL DSN (postgresql://...)")
    args = parser.parse_args()
    problem = asyncio.run(reachable(args.url))
    if problem is not None:
        print(f"skipped: PostgreSQL is not reachable at {args.url} ({problem})")
        sys.exit(0)
    asyncio.run(bench(args.url, args.pages, args.chunk))


if __name__ == "__main__":
    main()
