"""``InMemoryUnitOfWork``: snapshot on enter, restore on error, after-commit callbacks."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from types import TracebackType
from typing import Any, Self, TypeVar

from loom.core.repository.abc import RepoFor
from loom.core.repository.abc.uow import AfterCommit
from loom.core.repository.registry import custom_repository
from loom.core.testing._memory_repo import InMemoryRepository
from loom.core.testing._memory_store import InMemoryDatabase, Snapshot

__all__ = ["InMemoryUnitOfWork", "InMemoryUnitOfWorkFactory"]

T = TypeVar("T")


class InMemoryUnitOfWork:
    """A transaction over an :class:`InMemoryDatabase` (a ``UnitOfWork``).

    Entering captures a snapshot of the database; an exception inside ``async with``
    restores it and drops the after-commit callbacks; leaving normally keeps the writes and
    then awaits the callbacks in registration order (an exception from a callback
    propagates and skips the ones after it; the writes stay). Concurrent units of work on
    one database are not isolated from each other: this is a test double, not a database.

    Args:
        db: The database.
        read_only: Refuse writes through this unit of work's repositories.
        clock: Passed to the repositories (``"now"`` defaults and ``server_onupdate``).
    """

    def __init__(
        self,
        db: InMemoryDatabase,
        *,
        read_only: bool = False,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.db = db
        self._read_only = read_only
        self._clock = clock
        self._snapshot: Snapshot | None = None
        self._callbacks: list[AfterCommit] = []
        self._before: list[AfterCommit] = []
        self._repositories: dict[type[Any], Any] = {}

    @property
    def read_only(self) -> bool:
        """True when writes are refused."""
        return self._read_only

    @property
    def active(self) -> bool:
        """True between ``__aenter__`` and ``__aexit__``."""
        return self._snapshot is not None

    async def __aenter__(self) -> Self:
        if self.active:
            raise RuntimeError("this unit of work is already in use; open a new one")
        self._snapshot = self.db.snapshot()
        self._callbacks = []
        self._before = []
        self._repositories = {}
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            try:
                while self._before:
                    await self._before.pop(0)()
            except BaseException:
                self._finish(rollback=True)
                raise
        callbacks = self._finish(rollback=exc_type is not None)
        for callback in callbacks:
            await callback()

    def _finish(self, *, rollback: bool) -> list[AfterCommit]:
        snapshot, self._snapshot = self._snapshot, None
        callbacks, self._callbacks, self._before = self._callbacks, [], []
        if rollback:
            if snapshot is not None:
                self.db.restore(snapshot)
            return []
        return callbacks

    def _require_active(self, what: str) -> None:
        if not self.active:
            raise RuntimeError(f"{what} needs an open unit of work: async with factory() as uow")

    def repository(self, model: type[T]) -> RepoFor[T]:
        """Return ``model``'s repository in this transaction (a registered subclass if any)."""
        self._require_active("repository()")
        repo = self._repositories.get(model)
        if repo is None:
            cls = custom_repository(model, base=InMemoryRepository) or InMemoryRepository
            repo = cls(self.db, model, read_only=self._read_only, clock=self._clock)
            self._repositories[model] = repo
        result: RepoFor[T] = repo
        return result

    def after_commit(self, callback: AfterCommit) -> None:
        """Await ``callback`` once this unit of work commits; it is dropped on rollback."""
        self._require_active("after_commit()")
        self._callbacks.append(callback)

    def before_commit(self, callback: AfterCommit) -> None:
        """Await ``callback`` inside the transaction, just before it commits."""
        self._require_active("before_commit()")
        self._before.append(callback)


class InMemoryUnitOfWorkFactory:
    """Open :class:`InMemoryUnitOfWork` instances over one database (a ``UnitOfWorkFactory``).

    Args:
        db: The database; a new empty one when not given.
        clock: Passed to every unit of work.
    """

    def __init__(
        self, db: InMemoryDatabase | None = None, *, clock: Callable[[], datetime] | None = None
    ) -> None:
        self.db = db if db is not None else InMemoryDatabase()
        self._clock = clock

    def __call__(self, *, read_only: bool = False) -> InMemoryUnitOfWork:
        """Return a new unit of work; enter it with ``async with``."""
        return InMemoryUnitOfWork(self.db, read_only=read_only, clock=self._clock)
