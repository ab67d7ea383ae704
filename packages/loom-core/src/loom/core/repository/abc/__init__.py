"""Repository contracts: ``RepoFor[T]``, the unit of work, and the query spec.

Example::

    from typing import Protocol

    from loom.core.repository.abc import RepoFor


    class ProductRepo(RepoFor[Product], Protocol):
        async def get_by_slug(self, slug: str) -> Product | None: ...
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol, TypeVar, runtime_checkable

import msgspec

from loom.core.repository.abc.cursor import CursorCodec
from loom.core.repository.abc.query import (
    MAX_LIMIT,
    CursorResult,
    FilterGroup,
    FilterOp,
    FilterSpec,
    PageResult,
    PaginationMode,
    QuerySpec,
    SortSpec,
    validate_query,
)
from loom.core.repository.abc.uow import AfterCommit, UnitOfWork, UnitOfWorkFactory

__all__ = [
    "MAX_LIMIT",
    "AfterCommit",
    "CursorCodec",
    "CursorResult",
    "FilterGroup",
    "FilterOp",
    "FilterSpec",
    "PageResult",
    "PaginationMode",
    "QuerySpec",
    "RepoFor",
    "SortSpec",
    "UnitOfWork",
    "UnitOfWorkFactory",
    "WriteData",
    "validate_query",
]

T = TypeVar("T")

WriteData = msgspec.Struct | Mapping[str, Any]
"""What ``create``/``update`` accept: a command (or any struct) or a mapping of columns."""


@runtime_checkable
class RepoFor(Protocol[T]):
    """The repository of one model ``T``: CRUD, existence checks, counts and queries.

    Writes accept a :class:`~loom.core.command.Command` (its given fields, so ``UNSET``
    patch fields are left out), any other struct, or a mapping. Errors: a taken unique
    value raises :class:`~loom.core.errors.Conflict` naming the field; a missing foreign-key
    parent, a wrong value type, an unknown field or a bad query raises
    :class:`~loom.core.errors.ValidationError`; deleting a row still referenced by a
    ``RESTRICT``/``NO ACTION`` foreign key raises ``Conflict``.
    """

    async def get(self, id: Any, *, profile: str = "default") -> T | None:
        """Return the entity with primary key ``id``, loading what ``profile`` names."""
        ...

    async def create(self, data: WriteData) -> T:
        """Insert one row and return it with every server-generated value filled in."""
        ...

    async def create_many(self, items: Sequence[WriteData]) -> list[T]:
        """Insert every item, or none of them when one fails; return them in order."""
        ...

    async def update(self, id: Any, data: WriteData) -> T | None:
        """Apply a partial update; return the whole entity, or ``None`` when ``id`` is unknown.

        Fields that are absent or ``msgspec.UNSET`` are left untouched; an explicit
        ``None`` sets the column to NULL.
        """
        ...

    async def delete(self, id: Any) -> bool:
        """Delete the row; return ``False`` when there was none."""
        ...

    async def exists(self, where: Mapping[str, Any] | FilterGroup) -> bool:
        """True when a row matches; a mapping means ``AND`` of equalities (``None``: IS NULL)."""
        ...

    async def count(self, filters: FilterGroup | None = None) -> int:
        """Count the rows matching ``filters`` (all rows when ``None``)."""
        ...

    async def list_with_query(
        self, query: QuerySpec, *, profile: str = "default"
    ) -> PageResult[T] | CursorResult[T]:
        """Return one page: a ``PageResult`` in offset mode, a ``CursorResult`` in cursor mode."""
        ...
