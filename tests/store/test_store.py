"""``SQLStore`` behind core's ``open_store``: entry points, start/stop, auto_create, URLs."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect
from tests.contract.models import CONTRACT_MODELS, Author
from tests.core.seed.models import Record

from loom.core.config import DatabaseSettings
from loom.core.errors import CompilationError, ConfigurationError
from loom.core.stores import Store, open_store
from loom.store.errors import StoreError
from loom.store.sqlalchemy import SQLUnitOfWork
from loom.store.store import SQLStore


@pytest.mark.parametrize(
    ("url", "dialect"),
    [
        ("sqlite+aiosqlite:///./app.db", "sqlite"),
        ("sqlite:///./app.db", "sqlite"),
        ("postgresql+asyncpg://postgres@127.0.0.1/test", "postgresql"),
        ("postgresql://postgres@127.0.0.1/test", "postgresql"),
    ],
)
def test_open_store_finds_the_sql_store_by_url_scheme(url: str, dialect: str) -> None:
    store = open_store(DatabaseSettings(url=url), models=CONTRACT_MODELS, secret=b"k")
    assert isinstance(store, SQLStore)
    assert isinstance(store, Store)
    assert store.dialect == dialect
    assert not store.started


def test_an_unserved_url_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match=r"database\.url"):
        SQLStore(DatabaseSettings(url="mysql+aiomysql://x/y"), models=CONTRACT_MODELS, secret=b"k")
    with pytest.raises(ConfigurationError, match=r"database\.url"):
        SQLStore(DatabaseSettings(url="not a url"), models=CONTRACT_MODELS, secret=b"k")


async def test_start_creates_missing_tables_and_stop_closes(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'app.db'}"
    store = open_store(DatabaseSettings(url=url), models=CONTRACT_MODELS, secret=b"k")
    assert isinstance(store, SQLStore)
    with pytest.raises(StoreError, match="not started"):
        async with store.uow_factory():
            pass
    await store.start()
    try:
        async with store.engine.connect() as connection:
            names = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
        assert set(names) == {m.__tablename__ for m in CONTRACT_MODELS}
        async with store.uow_factory() as uow:
            assert isinstance(uow, SQLUnitOfWork)
            assert uow.concurrent_reads is False
            await uow.repository(Author).create({"name": "A", "email": "a@example.org"})
            with pytest.raises(CompilationError, match="Record"):
                uow.repository(Record)
    finally:
        await store.stop()
    assert not store.started
    await store.start()  # restart: the tables and rows are still there
    try:
        async with store.uow_factory(read_only=True) as uow:
            assert await uow.repository(Author).count() == 1
    finally:
        await store.stop()


async def test_auto_create_false_leaves_the_schema_alone(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'bare.db'}"
    store = SQLStore(
        DatabaseSettings(url=url, auto_create=False), models=CONTRACT_MODELS, secret=b"k"
    )
    await store.start()
    try:
        async with store.engine.connect() as connection:
            names = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
        assert names == []
    finally:
        await store.stop()


async def test_an_in_memory_sqlite_database_is_shared_by_units_of_work() -> None:
    settings = DatabaseSettings(url="sqlite+aiosqlite://", pool_size=3)
    store = SQLStore(settings, models=CONTRACT_MODELS, secret=b"k")
    await store.start()
    try:
        async with store.uow_factory() as uow:
            await uow.repository(Author).create({"name": "A", "email": "a@example.org"})
        async with store.uow_factory(read_only=True) as uow:
            assert await uow.repository(Author).count() == 1
    finally:
        await store.stop()


async def test_a_unit_of_work_is_entered_once(tmp_path: Path) -> None:
    store = SQLStore(
        DatabaseSettings(url=f"sqlite+aiosqlite:///{tmp_path / 'once.db'}"),
        models=CONTRACT_MODELS,
        secret=b"k",
    )
    await store.start()
    try:
        uow = store.uow_factory()
        with pytest.raises(RuntimeError):
            uow.repository(Author)
        async with uow:
            with pytest.raises(RuntimeError, match="already in use"):
                await uow.__aenter__()
            assert await uow.repository(Author).get("not-an-id") is None
            assert await uow.repository(Author).delete("not-an-id") is False

        async def noop() -> None:
            return None

        with pytest.raises(RuntimeError):
            uow.after_commit(noop)
    finally:
        await store.stop()
