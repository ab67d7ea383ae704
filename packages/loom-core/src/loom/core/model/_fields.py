"""Column and relation declarations: what ``ColumnField`` and the relation helpers return."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import msgspec

__all__ = [
    "ColumnField",
    "ColumnInfo",
    "ManyToMany",
    "ManyToOne",
    "OnDelete",
    "OneToMany",
    "Projection",
    "ProjectionInfo",
    "RelationInfo",
    "RelationKind",
]


class OnDelete(StrEnum):
    """What the database does to child rows when the parent row is deleted."""

    CASCADE = "CASCADE"
    SET_NULL = "SET NULL"
    RESTRICT = "RESTRICT"
    NO_ACTION = "NO ACTION"


@dataclass(frozen=True, slots=True, kw_only=True)
class ColumnInfo:
    """Everything declared about one column. Read it through ``model_info(Model).columns``."""

    primary_key: bool = False
    autoincrement: bool = False
    length: int | None = None
    unique: bool = False
    index: bool = False
    nullable: bool | None = None
    default: Any = msgspec.NODEFAULT
    default_factory: Callable[[], Any] | None = None
    server_default: str | None = None
    server_onupdate: str | None = None
    foreign_key: str | None = None
    on_delete: OnDelete | None = None

    @property
    def server_generated(self) -> bool:
        """True when the database, not the client, provides the value on insert."""
        return self.autoincrement or self.server_default is not None


def ColumnField(  # noqa: N802 - reads as a declaration, like dataclasses.field
    *,
    primary_key: bool = False,
    autoincrement: bool = False,
    length: int | None = None,
    unique: bool = False,
    index: bool = False,
    nullable: bool | None = None,
    default: Any = msgspec.NODEFAULT,
    default_factory: Callable[[], Any] | None = None,
    server_default: str | None = None,
    server_onupdate: str | None = None,
    foreign_key: str | None = None,
    on_delete: OnDelete | None = None,
) -> Any:
    """Declare a model field as a table column.

    Args:
        primary_key: Part of the primary key.
        autoincrement: The database generates the value (integer keys).
        length: Maximum length of a string column; commands mirroring the field are
            validated against it.
        unique: A unique constraint on the column.
        index: An index on the column.
        nullable: Whether NULL is allowed; inferred from ``T | None`` when not given.
        default: Client-side default.
        default_factory: Client-side default factory.
        server_default: SQL expression the database uses when no value is given
            (``"now"`` is the current UTC timestamp on every dialect).
        server_onupdate: SQL expression the database sets on every update (``"now"``).
        foreign_key: ``"table.column"`` this column references.
        on_delete: What the database does to this row when the referenced row goes.
    """
    if on_delete is not None and foreign_key is None:
        raise TypeError("ColumnField(on_delete=...) needs foreign_key=...")
    if length is not None and length <= 0:
        raise TypeError(f"ColumnField(length={length}) must be positive")
    return ColumnInfo(
        primary_key=primary_key,
        autoincrement=autoincrement,
        length=length,
        unique=unique,
        index=index,
        nullable=nullable,
        default=default,
        default_factory=default_factory,
        server_default=server_default,
        server_onupdate=server_onupdate,
        foreign_key=foreign_key,
        on_delete=OnDelete(on_delete) if on_delete is not None else None,
    )


class RelationKind(StrEnum):
    """The cardinality of a relation."""

    MANY_TO_ONE = "many_to_one"
    ONE_TO_MANY = "one_to_many"
    MANY_TO_MANY = "many_to_many"


@dataclass(frozen=True, slots=True, kw_only=True)
class RelationInfo:
    """A relation field: loaded only in the profiles that name it."""

    kind: RelationKind
    target: str | type[Any]
    profiles: tuple[str, ...]
    foreign_key: str | None = None
    secondary: str | None = None
    local_key: str | None = None
    remote_key: str | None = None
    order_by: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ProjectionInfo:
    """A derived value (a count over a relation), loaded only in the profiles that name it."""

    relation: str
    aggregate: str
    profiles: tuple[str, ...]


def _profiles(profiles: str | tuple[str, ...] | list[str]) -> tuple[str, ...]:
    result = (profiles,) if isinstance(profiles, str) else tuple(profiles)
    if not result:
        raise TypeError("a relation must name at least one profile that loads it")
    return result


def ManyToOne(  # noqa: N802
    target: str | type[Any],
    *,
    foreign_key: str,
    profiles: str | tuple[str, ...] | list[str] = ("detail",),
) -> Any:
    """Declare the parent entity, found through this model's ``foreign_key`` column."""
    return RelationInfo(
        kind=RelationKind.MANY_TO_ONE,
        target=target,
        foreign_key=foreign_key,
        profiles=_profiles(profiles),
    )


def OneToMany(  # noqa: N802
    target: str | type[Any],
    *,
    foreign_key: str,
    profiles: str | tuple[str, ...] | list[str] = ("detail",),
    order_by: str | None = None,
) -> Any:
    """Declare the child entities whose ``foreign_key`` column points at this model."""
    return RelationInfo(
        kind=RelationKind.ONE_TO_MANY,
        target=target,
        foreign_key=foreign_key,
        profiles=_profiles(profiles),
        order_by=order_by,
    )


def ManyToMany(  # noqa: N802
    target: str | type[Any],
    *,
    secondary: str,
    local_key: str,
    remote_key: str,
    profiles: str | tuple[str, ...] | list[str] = ("detail",),
) -> Any:
    """Declare entities linked through the association table ``secondary``.

    ``local_key`` is the column of ``secondary`` pointing at this model,
    ``remote_key`` the one pointing at ``target``.
    """
    return RelationInfo(
        kind=RelationKind.MANY_TO_MANY,
        target=target,
        secondary=secondary,
        local_key=local_key,
        remote_key=remote_key,
        profiles=_profiles(profiles),
    )


def Projection(  # noqa: N802
    relation: str,
    *,
    aggregate: str = "count",
    profiles: str | tuple[str, ...] | list[str] = ("detail",),
) -> Any:
    """Declare a value derived from a relation (``aggregate="count"``), loaded per profile."""
    if aggregate != "count":
        raise TypeError(f"Projection(aggregate={aggregate!r}): only 'count' is supported")
    return ProjectionInfo(relation=relation, aggregate=aggregate, profiles=_profiles(profiles))
