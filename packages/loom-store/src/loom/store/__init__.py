"""loom-store: SQL persistence for loom models (SQLite and PostgreSQL).

Modules:
    ``loom.store.store``: ``SQLStore``, the ``loom.stores`` provider.
    ``loom.store.sqlalchemy``: ``RepositorySQLAlchemy``, ``SQLUnitOfWork``, ``repository_for``.
    ``loom.store.mapping``: model declarations to SQLAlchemy tables.
    ``loom.store.migrations``: Alembic migrations of an application's tables.
    ``loom.store.cli``: ``loom db``, the migrations commands.
    ``loom.store.errors``: ``StoreError`` and its subclasses.
"""

from loom.store.__about__ import __version__

__all__ = ["__version__"]
