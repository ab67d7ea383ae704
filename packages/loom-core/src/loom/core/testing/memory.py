"""An in-memory repository backend with SQL semantics, for tests and examples.

Example::

    from loom.core.testing.memory import InMemoryDatabase, InMemoryUnitOfWorkFactory

    db = InMemoryDatabase(User, Address)
    uow_factory = InMemoryUnitOfWorkFactory(db)
    async with uow_factory() as uow:
        user = await uow.repository(User).create({"full_name": "Ada", "email": "ada@x.io"})

It honours unique columns (``Conflict``), foreign keys (a missing parent is a
``ValidationError``; ``on_delete`` rules on delete), ``server_default``/``server_onupdate``
``"now"``, every ``FilterOp`` with SQL NULL semantics, PostgreSQL NULL ordering, offset and
keyset pages, and profiles that load relations and count projections.
"""

from loom.core.testing._memory_repo import InMemoryRepository
from loom.core.testing._memory_store import InMemoryDatabase
from loom.core.testing._memory_uow import InMemoryUnitOfWork, InMemoryUnitOfWorkFactory

__all__ = [
    "InMemoryDatabase",
    "InMemoryRepository",
    "InMemoryUnitOfWork",
    "InMemoryUnitOfWorkFactory",
]
