"""SQLAlchemy repositories: the default one, the base of custom ones, and the unit of work.

Example::

    from loom.store.sqlalchemy import RepositorySQLAlchemy, repository_for


    @repository_for(Product, contract=ProductRepo)
    class ProductRepository(RepositorySQLAlchemy[Product, int]):
        async def get_by_slug(self, slug: str) -> Product | None: ...
"""

from loom.core.repository.registry import repository_for
from loom.store._repository import RepositorySQLAlchemy
from loom.store._uow import SQLUnitOfWork, SQLUnitOfWorkFactory

__all__ = ["RepositorySQLAlchemy", "SQLUnitOfWork", "SQLUnitOfWorkFactory", "repository_for"]
