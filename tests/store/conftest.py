"""Stores for the loom-store tests: a temp SQLite file per test, one PostgreSQL schema per session.

PostgreSQL tests carry the ``postgres`` marker (``tests/conftest.py`` skips them, or fails
them under ``LOOM_REQUIRE_SERVICES=1``, when the server is down). The session creates one
schema ``loom_test_<random>`` and drops it at the end; stores reach it through
``search_path``. Async engines are bound to the event loop that opened their connections,
and each test runs in its own loop, so a store shared across tests has its pool disposed
after every test.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from loom.core.config import DatabaseSettings
from loom.store.store import SQLStore

PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
SECRET = b"loom-store-tests"
DIALECTS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]
"""Parametrize a ``dialect`` fixture with these to run a test on both databases."""

MakeStore = Callable[[Sequence[type[Any]]], Awaitable[SQLStore]]


async def _admin(statement: str) -> None:
    engine = create_async_engine(PG_URL, poolclass=NullPool)
    try:
        async with engine.begin() as connection:
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def pg_schema() -> Iterator[str]:
    """A fresh PostgreSQL schema for this session, dropped at the end."""
    schema = f"loom_test_{secrets.token_hex(5)}"
    asyncio.run(_admin(f'CREATE SCHEMA "{schema}"'))
    try:
        yield schema
    finally:
        asyncio.run(_admin(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))


def pg_store(
    schema: str, models: Sequence[type[Any]], *, lean_reads: bool = True, **settings: Any
) -> SQLStore:
    """A (not started) store on the session schema (``lean_reads=False``: reads via SQLAlchemy)."""
    return SQLStore(
        DatabaseSettings(url=PG_URL, **settings),
        models=models,
        secret=SECRET,
        engine_options={"connect_args": {"server_settings": {"search_path": schema}}},
        lean_reads=lean_reads,
    )


def sqlite_store(path: Path, models: Sequence[type[Any]], **settings: Any) -> SQLStore:
    """A (not started) store on a SQLite file."""
    return SQLStore(
        DatabaseSettings(url=f"sqlite+aiosqlite:///{path}", **settings),
        models=models,
        secret=SECRET,
    )


@pytest.fixture
def dialect(request: pytest.FixtureRequest) -> str:
    """The database a parametrized test runs on (parametrize with ``DIALECTS``)."""
    return str(request.param)


@pytest.fixture
def schema(request: pytest.FixtureRequest, dialect: str) -> str | None:
    """The session's PostgreSQL schema when ``dialect`` is PostgreSQL (set up outside a loop)."""
    return str(request.getfixturevalue("pg_schema")) if dialect == "postgresql" else None


@pytest.fixture
async def make_store(schema: str | None, tmp_path: Path) -> AsyncIterator[MakeStore]:
    """Return ``make(models)``: a started store with those models' tables freshly created."""
    made: list[SQLStore] = []

    async def make(models: Sequence[type[Any]]) -> SQLStore:
        if schema is not None:
            store = pg_store(schema, models, auto_create=False)
        else:
            store = sqlite_store(tmp_path / f"db{len(made)}.sqlite", models, auto_create=False)
        await store.start()
        made.append(store)
        await store.drop_all()
        await store.create_all()
        return store

    yield make
    for store in made:
        try:
            await store.drop_all()
        finally:
            await store.stop()
