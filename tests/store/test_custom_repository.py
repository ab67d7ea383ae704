"""Seed 001's custom repository: registered with ``repository_for``, used by the unit of work."""

from __future__ import annotations

from typing import Any, Protocol

import msgspec
import pytest
from tests.core.seed.models import Product
from tests.store.conftest import DIALECTS, MakeStore

from loom.core.application import Application
from loom.core.command import Command
from loom.core.repository.abc import RepoFor
from loom.core.repository.registry import contract_model, custom_repository
from loom.core.testing.memory import InMemoryDatabase, InMemoryRepository, InMemoryUnitOfWork
from loom.core.use_case import Input
from loom.core.use_case.use_case import UseCase
from loom.store.sqlalchemy import RepositorySQLAlchemy, repository_for

both = pytest.mark.parametrize("dialect", DIALECTS, indirect=True)


class ProductRepo(RepoFor[Product], Protocol):
    async def get_by_slug(self, slug: str) -> Product | None: ...


@repository_for(Product, contract=ProductRepo)
class ProductRepository(RepositorySQLAlchemy[Product, int]):
    async def create(self, data: Any) -> Product:
        payload = msgspec.to_builtins(data)
        payload["name"] = str(payload["name"]).strip()
        return await super().create(payload)

    async def get_by_slug(self, slug: str) -> Product | None:
        return await self.fetch_one(self.select().where(self.table.c.sku == slug))


class CreateProduct(Command, frozen=True):
    sku: str
    name: str
    category: str
    price_cents: int
    stock: int


class CreateProductUseCase(UseCase[Product, Product]):
    async def execute(self, cmd: CreateProduct = Input()) -> Product:
        return await self.main_repo.create(cmd)


def _command(sku: str, name: str) -> CreateProduct:
    return CreateProduct(sku=sku, name=name, category="tools", price_cents=990, stock=3)


@both
async def test_the_unit_of_work_builds_the_registered_class(make_store: MakeStore) -> None:
    store = await make_store([Product])
    assert custom_repository(Product, base=RepositorySQLAlchemy) is ProductRepository
    assert contract_model(ProductRepo) is Product
    async with store.uow_factory() as uow:
        repo = uow.repository(Product)
        assert type(repo) is ProductRepository
        assert uow.repository(Product) is repo
        created = await repo.create(_command("HAM-1", "  Hammer  "))
        assert isinstance(repo, ProductRepository)
        found = await repo.get_by_slug("HAM-1")
        assert await repo.get_by_slug("NOPE") is None
    assert created.name == "Hammer"
    assert found == created
    async with store.uow_factory(read_only=True) as uow:
        stored = await uow.repository(Product).get(created.id)
    assert stored is not None
    assert stored.name == "Hammer"


@both
async def test_a_use_case_gets_it_as_main_repo(make_store: MakeStore) -> None:
    store = await make_store([Product])
    app = Application(store.uow_factory)
    created = await app.invoker.invoke(
        CreateProductUseCase,
        payload={
            "sku": "SAW-2",
            "name": "\tSaw ",
            "category": "tools",
            "price_cents": 1,
            "stock": 0,
        },
    )
    assert isinstance(created, Product)
    assert created.name == "Saw"
    async with store.uow_factory(read_only=True) as uow:
        assert await uow.repository(Product).exists({"sku": "SAW-2", "name": "Saw"}) is True


async def test_other_backends_keep_their_default_repository() -> None:
    # the class subclasses RepositorySQLAlchemy, so the in-memory backend ignores it
    async with InMemoryUnitOfWork(InMemoryDatabase(Product)) as uow:
        repo = uow.repository(Product)
        created = await repo.create(_command("NAIL-3", "  Nail  "))
    assert type(repo) is InMemoryRepository
    assert created.name == "  Nail  "
