"""A custom repository: standard CRUD use cases get it as their ``main_repo`` (seed 001)."""

from typing import Any, Protocol

import msgspec

from app.product.model import Product
from loom.core.repository.abc import RepoFor
from loom.core.repository.abc.query import FilterGroup, FilterSpec, QuerySpec
from loom.store.sqlalchemy import RepositorySQLAlchemy, repository_for


class ProductRepo(RepoFor[Product], Protocol):
    async def get_by_sku(self, sku: str) -> Product | None: ...


@repository_for(Product, contract=ProductRepo)
class ProductRepository(RepositorySQLAlchemy[Product, int]):
    """Trims product names on the way in."""

    async def create(self, data: msgspec.Struct | dict[str, Any]) -> Product:
        payload = msgspec.to_builtins(data) if isinstance(data, msgspec.Struct) else dict(data)
        payload["name"] = str(payload["name"]).strip()
        return await super().create(payload)

    async def get_by_sku(self, sku: str) -> Product | None:
        page = await self.list_with_query(
            QuerySpec(filters=FilterGroup(filters=(FilterSpec(field="sku", value=sku),)), limit=1)
        )
        return page.items[0] if page.items else None
