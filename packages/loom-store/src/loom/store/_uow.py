"""``SQLUnitOfWork``: one connection and one transaction, after-commit callbacks."""

from __future__ import annotations

from types import TracebackType
from typing import Any, Self, TypeVar

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection

from loom.core.logging import logger
from loom.core.repository.abc import RepoFor
from loom.core.repository.abc.uow import AfterCommit
from loom.core.repository.registry import custom_repository
from loom.store._context import StoreContext
from loom.store._engine import READ_ONLY_OPTION
from loom.store._lean import LeanConnection
from loom.store._repository import RepositorySQLAlchemy
from loom.store._translate import connection_error

__all__ = ["SQLUnitOfWork", "SQLUnitOfWorkFactory"]

T = TypeVar("T")

_FAILURES = (SQLAlchemyError, OSError, TimeoutError)


class SQLUnitOfWork:
    """A database transaction on one connection (a ``UnitOfWork``).

    Entering checks a connection out of the pool and begins a transaction (``READ ONLY``
    on PostgreSQL when ``read_only``). Leaving normally awaits the before-commit callbacks
    inside the transaction, commits, releases the connection and then awaits the
    after-commit callbacks in order; an exception (from the body or a before-commit
    callback) rolls back and drops them. Reads run one
    at a time on the one connection, so :attr:`concurrent_reads` is ``False``.

    Args:
        context: The store's shared context.
        read_only: Refuse writes.
    """

    concurrent_reads = False

    def __init__(self, context: StoreContext, *, read_only: bool = False) -> None:
        self.context = context
        self._read_only = read_only
        self._connection: AsyncConnection | None = None
        self._callbacks: list[AfterCommit] = []
        self._before: list[AfterCommit] = []
        self._repositories: dict[type[Any], Any] = {}
        self._lean: LeanConnection | bool = False

    @property
    def read_only(self) -> bool:
        """True when writes are refused."""
        return self._read_only

    @property
    def active(self) -> bool:
        """True between ``__aenter__`` and ``__aexit__``."""
        return self._connection is not None

    @property
    def connection(self) -> AsyncConnection:
        """The transaction's connection (only while the unit of work is open)."""
        if self._connection is None:
            raise RuntimeError("this unit of work is not open: async with factory() as uow")
        return self._connection

    async def __aenter__(self) -> Self:
        if self._connection is not None:
            raise RuntimeError("this unit of work is already in use; open a new one")
        engine = self.context.engine
        try:
            connection = await engine.connect()
        except _FAILURES as exc:
            raise connection_error(exc) from exc
        try:
            if self._read_only:
                options: dict[str, Any] = {READ_ONLY_OPTION: True}
                if self.context.dialect == "postgresql":
                    options["postgresql_readonly"] = True
                await connection.execution_options(**options)
            await connection.begin()
        except _FAILURES as exc:
            await _quietly_close(connection)
            raise connection_error(exc) from exc
        self._connection = connection
        self._callbacks = []
        self._before = []
        self._repositories = {}
        self._lean = self.context.lean_reads
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._connection is None:
            return
        if exc_type is None:
            try:
                while self._before:
                    await self._before.pop(0)()
            except BaseException:
                await self._finish(commit=False)
                raise
        callbacks = await self._finish(commit=exc_type is None)
        for callback in callbacks:
            await callback()

    async def _finish(self, *, commit: bool) -> list[AfterCommit]:
        """Commit or roll back, release the connection; return the after-commit callbacks."""
        connection, self._connection = self._connection, None
        callbacks, self._callbacks, self._before = self._callbacks, [], []
        self._repositories = {}
        self._lean = False
        if connection is None:
            return []
        if not commit:
            try:
                await connection.rollback()
            except _FAILURES as error:
                logger.warning("loom-store: rollback failed: {error}", error=repr(error))
            finally:
                await _quietly_close(connection)
            return []
        try:
            await connection.commit()
        except _FAILURES as error:
            raise connection_error(error, during="commit") from error
        finally:
            await _quietly_close(connection)
        return callbacks

    async def lean(self) -> LeanConnection | None:
        """The lean read path's view of the connection; ``None`` when reads use SQLAlchemy.

        Only PostgreSQL stores with lean reads on (the default) have one; it is opened on
        the first read of the unit of work.
        """
        lean = self._lean
        if lean is True:
            lean = self._lean = await LeanConnection.open(self.connection) or False
        return lean if isinstance(lean, LeanConnection) else None

    def repository(self, model: type[T]) -> RepoFor[T]:
        """Return ``model``'s repository in this transaction (a registered subclass if any).

        A class registered with ``repository_for`` is used when it subclasses
        :class:`~loom.store.sqlalchemy.RepositorySQLAlchemy`; repeated calls return the
        same instance.
        """
        if self._connection is None:
            raise RuntimeError("repository() needs an open unit of work: async with factory()")
        repo = self._repositories.get(model)
        if repo is None:
            cls: type[RepositorySQLAlchemy[Any, Any]] = (
                custom_repository(model, base=RepositorySQLAlchemy) or RepositorySQLAlchemy
            )
            repo = cls(self, model)
            self._repositories[model] = repo
        result: RepoFor[T] = repo
        return result

    def after_commit(self, callback: AfterCommit) -> None:
        """Await ``callback`` once this unit of work commits; it is dropped on rollback."""
        if self._connection is None:
            raise RuntimeError("after_commit() needs an open unit of work")
        self._callbacks.append(callback)

    def before_commit(self, callback: AfterCommit) -> None:
        """Await ``callback`` inside the transaction, just before it commits.

        Its writes commit with the rest; an exception from it rolls everything back (and
        drops the after-commit callbacks). Callbacks it registers run too, in order.
        """
        if self._connection is None:
            raise RuntimeError("before_commit() needs an open unit of work")
        self._before.append(callback)


async def _quietly_close(connection: AsyncConnection) -> None:
    try:
        await connection.close()
    except _FAILURES as error:
        logger.warning("loom-store: closing a connection failed: {error}", error=repr(error))


class SQLUnitOfWorkFactory:
    """Opens :class:`SQLUnitOfWork` instances on one store (a ``UnitOfWorkFactory``).

    Args:
        context: The store's shared context (its engine is attached when it starts).
    """

    def __init__(self, context: StoreContext) -> None:
        self.context = context

    def __call__(self, *, read_only: bool = False) -> SQLUnitOfWork:
        """Return a new unit of work; enter it with ``async with``."""
        return SQLUnitOfWork(self.context, read_only=read_only)
