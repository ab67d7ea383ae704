"""Primary-key GET on PostgreSQL: loom's repository against raw asyncpg, SQLAlchemy Core
and the SQLAlchemy ORM, in one run, on one connection each. Goal: the repository reaches at
least 0.5x the rows/s of raw asyncpg ``fetchrow``.

Every variant looks up the same random keys (20,000 by default) in a 1,000-row table made
in a scratch schema (dropped at the end) and gets the row back as what it returns:
asyncpg a ``Record``, Core a ``Row``, the ORM a mapped object (identity map cleared after
each lookup, so every lookup runs its SELECT), the repository a model struct. The main
figures run every lookup on one connection in one transaction; the last two open one per
lookup (``BEGIN``/``SELECT``/``COMMIT``), as a request does. Prints figures, asserts nothing;
exits 0 with a message when PostgreSQL is unreachable.

Run: .venv/bin/python tools/bench/store_get.py [--lookups N] [--url URL]
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
from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.orm import DeclarativeBase

from loom.core.config import DatabaseSettings
from loom.core.model import ColumnField, TimestampedModel
from loom.store.store import SQLStore

DEFAULT_URL = os.environ.get("LOOM_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
ROWS = 1000
GOAL = 0.5


class BenchItem(TimestampedModel, kw_only=True):
    __tablename__ = "bench_items"

    id: int = ColumnField(primary_key=True, autoincrement=True)
    sku: str = ColumnField(length=20, unique=True)
    name: str = ColumnField(length=80)
    price_cents: int
    stock: int
    active: bool = True


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
        models=[BenchItem],
        secret=b"bench",
        engine_options={"connect_args": {"server_settings": {"search_path": schema}}},
        lean_reads=lean_reads,
    )


Lookup = Callable[[int], Awaitable[Any]]


async def measure(variants: dict[str, Lookup], keys: list[int], chunk: int) -> dict[str, float]:
    """Median seconds per lookup of each variant, its chunks interleaved with the others'.

    Interleaving spreads the machine's other work evenly over the variants; the median
    chunk ignores the worst bursts. Every lookup must find its row.
    """
    for lookup in variants.values():
        for key in keys[:500]:
            await lookup(key)
    seen: dict[str, list[float]] = {label: [] for label in variants}
    for start in range(0, len(keys), chunk):
        part = keys[start : start + chunk]
        for label, lookup in variants.items():
            started = time.perf_counter()
            for key in part:
                if await lookup(key) is None:
                    raise SystemExit(f"{label}: key {key} not found")
            seen[label].append((time.perf_counter() - started) / len(part))
    return {label: statistics.median(times) for label, times in seen.items()}


def show(label: str, per: float) -> None:
    print(f"  {label:<44} {per * 1e6:8.1f} µs/lookup {1 / per:10,.0f} rows/s")


async def bench(dsn: str, lookups: int, chunk: int) -> None:
    schema = f"loom_bench_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(dsn)
    await admin.execute(f'CREATE SCHEMA "{schema}"')
    try:
        await run(dsn, schema, lookups, chunk)
    finally:
        await admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
        await admin.close()


async def run(dsn: str, schema: str, lookups: int, chunk: int) -> None:
    store = store_for(dsn, schema)
    await store.start()
    await store.create_all()
    now = datetime.now(UTC)
    async with store.uow_factory() as uow:
        await uow.repository(BenchItem).create_many(
            [
                {"sku": f"SKU-{i:05d}", "name": f"Item {i}", "price_cents": i * 7, "stock": i % 50}
                | {"created_at": now, "updated_at": now}
                for i in range(1, ROWS + 1)
            ]
        )
    keys = random.Random(7).choices(range(1, ROWS + 1), k=lookups)
    table = store.catalog.table(BenchItem)
    columns = ", ".join(c.name for c in table.c)
    sql = f"SELECT {columns} FROM bench_items WHERE id = $1"
    raw = await asyncpg.connect(dsn, server_settings={"search_path": schema})
    version = ".".join(str(part) for part in raw.get_server_version()[:2])
    print(
        f"PK GET on PostgreSQL {version}: {lookups:,} lookups per variant, one connection "
        f"each, in chunks of {chunk:,} taken in turns (median chunk shown)"
    )
    plain = store_for(dsn, schema, lean_reads=False)
    await plain.start()
    by_id = select(table).where(table.c.id == bindparam("k"))

    class Base(DeclarativeBase):
        pass

    class Row(Base):
        __table__ = table

    async with AsyncExitStack() as stack:
        lean_uow = await stack.enter_async_context(store.uow_factory(read_only=True))
        plain_uow = await stack.enter_async_context(plain.uow_factory(read_only=True))
        engine = create_async_engine(
            dsn.replace("postgresql://", "postgresql+asyncpg://", 1),
            connect_args={"server_settings": {"search_path": schema}},
        )
        stack.push_async_callback(engine.dispose)
        core = await stack.enter_async_context(engine.connect())
        session = await stack.enter_async_context(AsyncSession(engine))

        async def core_get(key: int) -> Any:
            return (await core.execute(by_id, {"k": key})).first()

        async def orm_get(key: int) -> Any:
            found = await session.get(Row, key)
            session.expunge_all()  # the next lookup runs its SELECT too
            return found

        in_one = await measure(
            {
                "raw asyncpg fetchrow": lambda k: raw.fetchrow(sql, k),
                "repository.get (lean path)": lean_uow.repository(BenchItem).get,
                "repository.get (lean path off)": plain_uow.repository(BenchItem).get,
                "SQLAlchemy Core execute": core_get,
                "SQLAlchemy ORM session.get": orm_get,
            },
            keys,
            chunk,
        )
    for label, per in in_one.items():
        show(label, per)

    async def raw_tx(key: int) -> Any:
        async with raw.transaction(readonly=True):
            return await raw.fetchrow(sql, key)

    async def repo_uow(key: int) -> Any:
        async with store.uow_factory(read_only=True) as uow:
            return await uow.repository(BenchItem).get(key)

    print("  -- one transaction per lookup (BEGIN, SELECT, COMMIT), as a request runs --")
    each = await measure(
        {
            "raw asyncpg, transaction per lookup": raw_tx,
            "repository.get, unit of work per lookup": repo_uow,
        },
        keys,
        chunk,
    )
    for label, per in each.items():
        show(label, per)
    await raw.close()
    await plain.stop()
    await store.stop()
    ratio = in_one["raw asyncpg fetchrow"] / in_one["repository.get (lean path)"]
    print(f"repository / raw asyncpg: {ratio:.2f}x the rows/s (goal >= {GOAL}x)")
    per_request = (
        each["raw asyncpg, transaction per lookup"]
        / each["repository.get, unit of work per lookup"]
    )
    print(f"with a transaction per lookup: {per_request:.2f}x the rows/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lookups", type=int, default=20_000)
    parser.add_argument("--chunk", type=int, default=1_000, help="lookups per turn")
    parser.add_argument("--url", default=DEFAULT_URL, help="PostgreSQL DSN (postgresql://...)")
    args = parser.parse_args()
    problem = asyncio.run(reachable(args.url))
    if problem is not None:
        print(f"skipped: PostgreSQL is not reachable at {args.url} ({problem})")
        sys.exit(0)
    asyncio.run(bench(args.url, args.lookups, args.chunk))


if __name__ == "__main__":
    main()
