"""``UseCaseHarness``: run use cases in tests on the in-memory store, with overrides."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeVar

import msgspec

from loom.core.application import Application
from loom.core.testing.jobs import RecordingJobService
from loom.core.testing.memory import InMemoryDatabase, InMemoryUnitOfWorkFactory

__all__ = ["UseCaseHarness"]

T = TypeVar("T")


class UseCaseHarness:
    """An application on an in-memory database, for testing use cases end to end.

    Example:
        >>> harness = UseCaseHarness(User, overrides={Clock: FixedClock()})  # doctest: +SKIP
        >>> await harness.seed(User, {"full_name": "Ada", "email": "a@x.io"})  # doctest: +SKIP
        >>> await harness.run(UpdateUser, params={"user_id": 1}, payload={})  # doctest: +SKIP
        >>> harness.jobs.dispatched  # dispatched after commit  # doctest: +SKIP

    Args:
        *models: Models whose tables exist (parents of foreign keys first).
        overrides: Services registered in the DI container, by type.
        job_service: The job service; a :class:`RecordingJobService` by default.
    """

    def __init__(
        self,
        *models: type[Any],
        overrides: Mapping[Any, object] | None = None,
        job_service: Any = None,
    ) -> None:
        self.db = InMemoryDatabase(*models)
        self.jobs = job_service if job_service is not None else RecordingJobService()
        self.app = Application(InMemoryUnitOfWorkFactory(self.db), job_service=self.jobs)
        for key, value in (overrides or {}).items():
            self.app.container.register_instance(key, value)

    async def run(
        self, use_case: type[Any], *, params: Mapping[str, Any] | None = None, payload: Any = None
    ) -> Any:
        """Run ``use_case`` as a request would: own unit of work, rules, loads and all."""
        return await self.app.invoker.invoke(use_case, params=params, payload=payload)

    async def seed(self, model: type[T], *rows: Mapping[str, Any] | msgspec.Struct) -> list[T]:
        """Insert ``rows`` into ``model``'s table in one committed unit of work."""
        async with self.app.uow_factory() as uow:
            created: list[T] = await uow.repository(model).create_many(list(rows))
        return created

    @contextmanager
    def override(self, key: Any, value: object) -> Iterator[None]:
        """Swap one DI registration for the duration of a ``with`` block."""
        with self.app.container.override(key, value):
            yield
