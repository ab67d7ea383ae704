"""Test doubles for loom applications: an in-memory repository backend.

See :mod:`loom.core.testing.memory`.
"""

from loom.core.testing.memory import (
    InMemoryDatabase,
    InMemoryRepository,
    InMemoryUnitOfWork,
    InMemoryUnitOfWorkFactory,
)

__all__ = [
    "InMemoryDatabase",
    "InMemoryRepository",
    "InMemoryUnitOfWork",
    "InMemoryUnitOfWorkFactory",
]
