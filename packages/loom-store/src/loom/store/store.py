"""``SQLStore``: the ``Store`` of SQLite and PostgreSQL URLs (the ``loom.stores`` provider).

Example::

    from loom.core.config import DatabaseSettings
    from loom.core.stores import open_store

    store = open_store(
        DatabaseSettings(url="sqlite+aiosqlite:///./app.db"), models=[User], secret=b"..."
    )
    await store.start()  # creates missing tables when database.auto_create is true
    async with store.uow_factory() as uow:
        user = await uow.repository(User).create({"email": "ada@example.org"})
    await store.stop()
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from loom.core.config import DatabaseSettings
from loom.core.repository.abc.cursor import CursorCodec
from loom.store._context import StoreContext
from loom.store._engine import create_engine, dialect_of
from loom.store._mapping import Catalog, build_catalog
from loom.store._translate import connection_error
from loom.store._uow import SQLUnitOfWorkFactory
from loom.store.errors import StoreError

__all__ = ["SQLStore", "open_sql_store"]

_FAILURES = (SQLAlchemyError, OSError, TimeoutError)


class SQLStore:
    """SQL persistence for a set of models (a ``loom.core.stores.Store``).

    Building it maps the models to tables and prepares every statement plan, without
    touching the network; :meth:`start` creates the engine (and, with
    ``settings.auto_create``, the missing tables); :meth:`stop` disposes of the pool.

    Args:
        settings: The ``database`` section (URL, pool, ``auto_create``).
        models: The application's models (relation targets are added automatically).
        secret: Signs keyset cursors.
        engine_options: Extra keyword arguments for ``create_async_engine`` (for example
            ``{"connect_args": {"server_settings": {"search_path": "tenant"}}}``).
        lean_reads: On PostgreSQL, run gets and list pages as asyncpg prepared
            statements on the unit of work's connection (see ``docs/store.md``); ``False``
            sends every read through SQLAlchemy, and so does ``settings.echo`` (so every
            statement is logged).

    Raises:
        ConfigurationError: the URL is not a SQLite or PostgreSQL URL.
        CompilationError: a model cannot be mapped.
    """

    def __init__(
        self,
        settings: DatabaseSettings,
        *,
        models: Sequence[type[Any]],
        secret: bytes,
        engine_options: Mapping[str, Any] | None = None,
        lean_reads: bool = True,
    ) -> None:
        self.settings = settings
        self.catalog: Catalog = build_catalog(models)
        self.context = StoreContext(
            self.catalog,
            dialect_of(settings.url),
            CursorCodec(secret),
            lean_reads=lean_reads and not settings.echo,
        )
        self._factory = SQLUnitOfWorkFactory(self.context)
        self._engine_options = dict(engine_options or {})
        self._engine: AsyncEngine | None = None

    @property
    def dialect(self) -> str:
        """``"postgresql"`` or ``"sqlite"``."""
        return self.context.dialect

    @property
    def engine_options(self) -> dict[str, Any]:
        """The extra ``create_async_engine`` arguments the store was given (a copy)."""
        return dict(self._engine_options)

    @property
    def uow_factory(self) -> SQLUnitOfWorkFactory:
        """Opens units of work; usable once the store has started."""
        return self._factory

    @property
    def engine(self) -> AsyncEngine:
        """The SQLAlchemy engine (after :meth:`start`)."""
        if self._engine is None:
            raise StoreError("the store is not started; await store.start() first")
        return self._engine

    @property
    def started(self) -> bool:
        """True between :meth:`start` and :meth:`stop`."""
        return self._engine is not None

    async def start(self) -> None:
        """Create the engine; create missing tables when ``settings.auto_create``.

        Raises:
            StoreUnavailable: the database cannot be reached (only when creating tables).
        """
        if self._engine is not None:
            return
        self._engine = create_engine(self.settings, options=self._engine_options)
        self.context.attach(self._engine)
        if self.settings.auto_create:
            try:
                await self.create_all()
            except BaseException:
                await self.stop()
                raise

    async def stop(self) -> None:
        """Close every pooled connection."""
        engine, self._engine = self._engine, None
        self.context.attach(None)
        if engine is not None:
            await engine.dispose()

    async def create_all(self) -> None:
        """Create the tables (and indexes) that do not exist yet."""
        try:
            async with self.engine.begin() as connection:
                await connection.run_sync(self.catalog.metadata.create_all)
        except _FAILURES as exc:
            raise connection_error(exc, during="create_all") from exc

    async def drop_all(self) -> None:
        """Drop every table of the store's models (for tests and tools)."""
        try:
            async with self.engine.begin() as connection:
                await connection.run_sync(self.catalog.metadata.drop_all)
        except _FAILURES as exc:
            raise connection_error(exc, during="drop_all") from exc


def open_sql_store(
    settings: DatabaseSettings, *, models: Sequence[type[Any]], secret: bytes
) -> SQLStore:
    """The ``loom.stores`` provider of ``sqlite`` and ``postgresql`` URLs."""
    return SQLStore(settings, models=models, secret=secret)
