"""The repository contract suite on SQLite (aiosqlite): a temp database file per test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from tests.contract.repository_suite import CONTRACT_MODELS, RepositoryContract
from tests.store.conftest import sqlite_store

from loom.core.repository.abc import UnitOfWorkFactory


class TestSQLiteRepositoryContract(RepositoryContract):
    @pytest.fixture
    async def uow_factory(self, tmp_path: Path) -> AsyncIterator[UnitOfWorkFactory]:
        store = sqlite_store(tmp_path / "contract.sqlite", CONTRACT_MODELS, auto_create=True)
        await store.start()
        try:
            yield store.uow_factory
        finally:
            await store.stop()
