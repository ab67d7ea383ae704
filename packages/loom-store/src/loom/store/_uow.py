"""``SQLUnitOfWork``: one lazily opened connection and transaction, commit callbacks."""

from __future__ import annotations

import asyncio
from types import TracebackType
from typing import Any, Self, TypeVar

from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from loom.core.logging import logger
from loom.core.repository.abc import RepoFor
from loom.core.repository.abc.uow import AfterCommit
from loom.core.repository.registry import custom_repository
from loom.store._context import StoreContext
from loom.store._lean import LeanConnection, LeanReadError
from loom.store._repository import RepositorySQLAlchemy
from loom.store._translate import connection_error

__all__ = ["SQLUnitOfWork", "SQLUnitOfWorkFactory"]

T = TypeVar("T")

_FAILURES = (SQLAlchemyError, OSError, TimeoutError)


class SQLUnitOfWork:
    """A database transaction on one connection (a ``UnitOfWork``).

    Entering costs no I/O: the first repository operation (or :meth:`connect`) checks a
    connection out of the pool, and the first statement begins the transaction
    (``READ ONLY`` on PostgreSQL when ``read_only``). Leaving normally awaits the
    before-commit callbacks inside the transaction, commits, releases the connection and
    then awaits the after-commit callbacks in order; an exception (from the body or a
    before-commit callback) rolls back and drops them. A unit of work that never connected
    sends nothing to the database (no ``BEGIN``, ``COMMIT`` or ``ROLLBACK``) but still
    runs its callbacks; one whose only statements were lean reads ends its transaction
    as the connection is released. Reads run one at a time on the one connection, so
    :attr:`concurrent_reads` is ``False``.

    Args:
        context: The store's shared context.
        read_only: Refuse writes.
    """

    concurrent_reads = False

    def __init__(self, context: StoreContext, *, read_only: bool = False) -> None:
        self.context = context
        self._read_only = read_only
        self._open = False
        self._engine: AsyncEngine | None = None
        self._connection: AsyncConnection | None = None
        self._connecting: asyncio.Lock | None = None
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
        """True between ``__aenter__`` and ``__aexit__``, connected or not."""
        return self._open

    @property
    def connected(self) -> bool:
        """True once a connection is checked out for this unit of work."""
        return self._connection is not None

    @property
    def connection(self) -> AsyncConnection:
        """The transaction's connection, once the unit of work has connected.

        Repository operations connect on their own; ``await uow.connect()`` connects
        explicitly (and returns the connection).
        """
        if self._connection is None:
            if self._open:
                raise RuntimeError(
                    "this unit of work has not connected yet: use await uow.connect()"
                )
            raise RuntimeError("this unit of work is not open: async with factory() as uow")
        return self._connection

    async def __aenter__(self) -> Self:
        if self._open:
            raise RuntimeError("this unit of work is already in use; open a new one")
        # a store that is not started fails here, before the body runs
        self._engine = self.context.engine_for(read_only=self._read_only)
        self._open = True
        self._callbacks = []
        self._before = []
        self._repositories = {}
        self._lean = self.context.lean_reads
        return self

    async def connect(self) -> AsyncConnection:
        """The transaction's connection, checked out of the pool on the first call.

        Its transaction begins with the first statement run on it.

        Raises:
            StoreUnavailable: the database cannot be reached (other connection failures
                are translated likewise).
            RuntimeError: the unit of work is not open.
        """
        connection = self._connection
        if connection is not None:
            return connection
        if not self._open:
            raise RuntimeError("this unit of work is not open: async with factory() as uow")
        lock = self._connecting
        if lock is None:
            lock = self._connecting = asyncio.Lock()
        async with lock:
            if self._connection is None:
                self._connection = await self._begin()
        return self._connection

    async def _begin(self) -> AsyncConnection:
        engine = self._engine or self.context.engine_for(read_only=self._read_only)
        try:
            return await engine.connect()
        except _FAILURES as exc:
            raise connection_error(exc) from exc

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if not self._open:
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
        lean, self._lean = self._lean, False
        self._repositories = {}
        self._connecting = None
        self._engine = None
        self._open = False
        if connection is None:
            return callbacks if commit else []
        if not commit:
            await _quietly_close(connection)  # releasing the connection rolls back
            return []
        if connection.in_transaction():
            try:
                await connection.run_sync(_commit_and_close)
            except _FAILURES as error:
                raise connection_error(error, during="commit") from error
            return callbacks
        try:
            if isinstance(lean, LeanConnection):
                await lean.commit()  # only lean reads ran: SQLAlchemy holds no transaction
        except LeanReadError as error:
            raise connection_error(error.error, during="commit") from error.error
        finally:
            await _quietly_close(connection)
        return callbacks

    async def lean(self) -> LeanConnection | None:
        """The lean read path's view of the connection; ``None`` when reads use SQLAlchemy.

        Only PostgreSQL stores with lean reads on (the default) have one; asking for it
        connects the unit of work.
        """
        lean = self._lean
        if lean is True:
            lean = self._lean = await LeanConnection.open(await self.connect()) or False
        elif lean is False:
            return None
        return lean if isinstance(lean, LeanConnection) else None

    def repository(self, model: type[T]) -> RepoFor[T]:
        """Return ``model``'s repository in this transaction (a registered subclass if any).

        A class registered with ``repository_for`` is used when it subclasses
        :class:`~loom.store.sqlalchemy.RepositorySQLAlchemy`; repeated calls return the
        same instance. Building a repository does not connect the unit of work.
        """
        if not self._open:
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
        """Await ``callback`` once this unit of work commits; it is dropped on rollback.

        A unit of work that never connected commits nothing, and still runs them.
        """
        if not self._open:
            raise RuntimeError("after_commit() needs an open unit of work")
        self._callbacks.append(callback)

    def before_commit(self, callback: AfterCommit) -> None:
        """Await ``callback`` inside the transaction, just before it commits.

        Its writes commit with the rest; an exception from it rolls everything back (and
        drops the after-commit callbacks). Callbacks it registers run too, in order.
        """
        if not self._open:
            raise RuntimeError("before_commit() needs an open unit of work")
        self._before.append(callback)


async def _quietly_close(connection: AsyncConnection) -> None:
    try:
        await connection.close()
    except _FAILURES as error:
        logger.warning("loom-store: closing a connection failed: {error}", error=repr(error))


def _commit_and_close(connection: Connection) -> None:
    """Commit, then release the connection (one trip into SQLAlchemy's sync layer)."""
    try:
        connection.commit()
    finally:
        try:
            connection.close()
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
