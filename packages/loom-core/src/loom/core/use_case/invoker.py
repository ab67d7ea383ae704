"""``ApplicationInvoker``: run a use case by type, or an entity's CRUD, from anywhere.

Inside a running use case the invoked use case shares its unit of work; from a job
callback or a script it opens its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Generic, TypeVar

from loom.core.engine import Executor
from loom.core.errors import NotFound
from loom.core.model import model_info
from loom.core.repository.abc.query import QuerySpec
from loom.core.use_case.crud import crud_use_cases

__all__ = ["ApplicationInvoker", "EntityInvoker"]

T = TypeVar("T")


class ApplicationInvoker:
    """Runs use cases by type, with ``params`` (path/query values) and a ``payload``."""

    def __init__(self, executor: Executor) -> None:
        self._executor = executor
        # The executor's own method: one coroutine frame less on every call.
        self.invoke = executor.run  # type: ignore[method-assign]

    async def invoke(
        self,
        use_case: type[Any],
        *,
        params: Mapping[str, Any] | None = None,
        payload: Any = None,
    ) -> Any:
        """Run ``use_case`` and return its result (rules, loads and errors as over HTTP)."""
        return await self._executor.run(use_case, params=params, payload=payload)

    def entity(self, model: type[T]) -> EntityInvoker[T]:
        """The auto-CRUD use cases of ``model``."""
        return EntityInvoker(self._executor, model)


class EntityInvoker(Generic[T]):
    """CRUD on one model through its auto-CRUD use cases.

    ``params`` carries the primary key as ``"id"`` (or under the key column's name).
    """

    __slots__ = ("_crud", "_executor", "_pk")

    def __init__(self, executor: Executor, model: type[T]) -> None:
        self._executor = executor
        self._crud = crud_use_cases(model)
        self._pk = model_info(model).pk

    def _id(self, params: Mapping[str, Any] | None) -> dict[str, Any]:
        params = dict(params or {})
        if "id" not in params and self._pk in params:
            params["id"] = params.pop(self._pk)
        return params

    async def get(self, *, params: Mapping[str, Any], profile: str = "default") -> T | None:
        """The entity, or ``None`` when it does not exist."""
        try:
            found: T = await self._executor.run(
                self._crud.get, params={**self._id(params), "profile": profile}
            )
        except NotFound:
            return None
        return found

    async def create(self, *, payload: Any) -> T:
        """Create an entity from ``payload`` (validated like a POST body)."""
        created: T = await self._executor.run(self._crud.create, payload=payload)
        return created

    async def update(self, *, params: Mapping[str, Any], payload: Any) -> T:
        """Patch the entity; absent fields stay as they are.

        Raises:
            NotFound: no entity has that id.

        """
        updated: T = await self._executor.run(
            self._crud.update, params=self._id(params), payload=payload
        )
        return updated

    async def delete(self, *, params: Mapping[str, Any]) -> None:
        """Delete the entity.

        Raises:
            NotFound: no entity has that id.

        """
        await self._executor.run(self._crud.delete, params=self._id(params))

    async def list(self, *, query: QuerySpec | None = None, profile: str = "default") -> Any:
        """A page of entities (offset or cursor, as ``query`` says)."""
        return await self._executor.run(
            self._crud.list, params={"query": query or QuerySpec(), "profile": profile}
        )
