"""The repository contract suite on PostgreSQL with the lean read path off.

``test_contract_postgres.py`` runs the suite as stores run by default (gets and pages as
asyncpg prepared statements); this module runs it with every read through SQLAlchemy,
so both paths keep meeting the contract.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest
from sqlalchemy import text
from tests.contract.models import CONTRACT_MODELS
from tests.contract.repository_suite import RepositoryContract
from tests.store.conftest import pg_store

from loom.core.repository.abc import UnitOfWorkFactory
from loom.store.store import SQLStore

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def sqlalchemy_store(pg_schema: str) -> Iterator[SQLStore]:
    store = pg_store(pg_schema, CONTRACT_MODELS, lean_reads=False, auto_create=True)
    assert store.context.lean_reads is False

    async def start() -> None:
        await store.start()
        await store.engine.dispose()

    asyncio.run(start())
    yield store

    async def stop() -> None:
        await store.start()
        await store.drop_all()
        await store.stop()

    asyncio.run(store.stop())
    asyncio.run(stop())


class TestPostgresContractThroughSQLAlchemy(RepositoryContract):
    @pytest.fixture
    async def uow_factory(self, sqlalchemy_store: SQLStore) -> AsyncIterator[UnitOfWorkFactory]:
        yield sqlalchemy_store.uow_factory
        await sqlalchemy_store.engine.dispose()

    @pytest.fixture
    async def prepare_schema(
        self, uow_factory: UnitOfWorkFactory, sqlalchemy_store: SQLStore
    ) -> None:
        names = ", ".join(f'"{t.name}"' for t in sqlalchemy_store.catalog.metadata.sorted_tables)
        async with sqlalchemy_store.engine.begin() as connection:
            await connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
