"""The repository contract suite on PostgreSQL (asyncpg), in a schema made for the session.

The store (tables, plans, statements) is built once per session; each test empties the
tables with one ``TRUNCATE ... RESTART IDENTITY CASCADE``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest
from sqlalchemy import text
from tests.contract.repository_suite import CONTRACT_MODELS, RepositoryContract
from tests.store.conftest import pg_store

from loom.core.repository.abc import UnitOfWorkFactory
from loom.store.store import SQLStore

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def contract_store(pg_schema: str) -> Iterator[SQLStore]:
    store = pg_store(pg_schema, CONTRACT_MODELS, auto_create=True)

    async def start() -> None:
        await store.start()  # creates the tables
        await store.engine.dispose()  # its connections belong to this loop only

    asyncio.run(start())
    yield store

    async def stop() -> None:
        await store.start()
        await store.drop_all()
        await store.stop()

    asyncio.run(store.stop())
    asyncio.run(stop())


class TestPostgresRepositoryContract(RepositoryContract):
    @pytest.fixture
    async def uow_factory(self, contract_store: SQLStore) -> AsyncIterator[UnitOfWorkFactory]:
        yield contract_store.uow_factory
        await contract_store.engine.dispose()

    @pytest.fixture
    async def prepare_schema(
        self, uow_factory: UnitOfWorkFactory, contract_store: SQLStore
    ) -> None:
        names = ", ".join(f'"{t.name}"' for t in contract_store.catalog.metadata.sorted_tables)
        async with contract_store.engine.begin() as connection:
            await connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
