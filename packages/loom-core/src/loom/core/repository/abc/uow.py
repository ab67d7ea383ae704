"""The unit of work: one transaction, the repositories that share it, and after-commit hooks.

Example::

    async with uow_factory() as uow:
        users = uow.repository(User)
        await users.update(user_id, {"full_name": "Ada"})
        uow.after_commit(notify_search_index)  # runs only if the transaction commits
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import TYPE_CHECKING, Protocol, Self, TypeVar, runtime_checkable

if TYPE_CHECKING:
    from loom.core.repository.abc import RepoFor

__all__ = ["AfterCommit", "UnitOfWork", "UnitOfWorkFactory"]

T = TypeVar("T")

AfterCommit = Callable[[], Awaitable[None]]
"""A callback run once the transaction has committed."""


@runtime_checkable
class UnitOfWork(Protocol):
    """One transaction: ``async with`` it; leaving normally commits, an exception rolls back.

    Everything written through its repositories commits or rolls back together. Callbacks
    registered with :meth:`after_commit` run after a successful commit, in registration
    order, and never after a rollback; callbacks registered with :meth:`before_commit` run
    inside the transaction just before it commits. A read-only unit of work refuses writes.
    """

    @property
    def read_only(self) -> bool:
        """True when this unit of work may only read."""
        ...

    async def __aenter__(self) -> Self:
        """Begin the transaction."""
        ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        """Commit (and run after-commit callbacks) or, when ``exc`` is set, roll back."""
        ...

    def repository(self, model: type[T]) -> RepoFor[T]:
        """Return the repository of ``model`` bound to this transaction.

        A class registered with :func:`loom.core.repository.registry.repository_for` is
        used when it subclasses the backend's repository base class.
        """
        ...

    def after_commit(self, callback: AfterCommit) -> None:
        """Run ``callback`` after this unit of work commits; dropped on rollback."""
        ...

    def before_commit(self, callback: AfterCommit) -> None:
        """Run ``callback`` inside the transaction, just before it commits.

        Writes it makes commit (or roll back) with the rest; an exception from it rolls
        the unit of work back. Job services write their outbox rows here.
        """
        ...


@runtime_checkable
class UnitOfWorkFactory(Protocol):
    """Open units of work: ``async with factory() as uow`` (``read_only=True`` for reads)."""

    def __call__(self, *, read_only: bool = False) -> UnitOfWork:
        """Return a new, not yet entered, unit of work."""
        ...
