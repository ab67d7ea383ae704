"""Relations and count projections of a profile, loaded without N+1 queries.

Each relation a profile names costs one statement for the whole batch of parents
(``key IN (...)``, ``key = ANY(:keys)`` on PostgreSQL); a count projection costs one
``GROUP BY`` statement, or nothing when its relation is loaded by the same profile. The
statements are :class:`~loom.store._reads.ReadStatement` objects run by the repository's
read function, so on PostgreSQL they take the lean read path (one prepared statement
whatever the number of keys) and database errors are translated as for any read.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, Select, any_, bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.sql.elements import ColumnElement

from loom.core.model import ModelInfo, RelationKind, RelationSpec, model_info
from loom.core.repository.abc.query import SortSpec
from loom.store._filters import ClauseBuilder
from loom.store._reads import ReadStatement
from loom.store._rows import RowCodec

__all__ = ["PlanView", "ProfileLoader", "Reader"]

Reader = Callable[[ReadStatement, Mapping[str, Any]], Awaitable[Sequence[Sequence[Any]]]]
"""Runs a read statement with named values and returns its rows (the repository's reads)."""


@dataclass(frozen=True, slots=True)
class PlanView:
    """What the loader needs from another model's plan."""

    codec: RowCodec[Any]
    columns: tuple[Column[Any], ...]
    clauses: ClauseBuilder


def _referenced(info: ModelInfo, fk_column: str, default: str) -> str:
    declared = info.columns[fk_column].info.foreign_key if fk_column in info.columns else None
    return declared.rpartition(".")[2] if declared else default


@dataclass(frozen=True, slots=True)
class _Load:
    name: str
    many: bool
    parent_key: str
    read: ReadStatement
    codec: RowCodec[Any]
    key_index: int | None
    target_pk_index: int


@dataclass(frozen=True, slots=True)
class _Count:
    name: str
    relation: str
    parent_key: str
    read: ReadStatement | None


class ProfileLoader:
    """Attaches one profile's relations and projections to a batch of parent rows.

    Args:
        info: The parent model.
        profile: The profile loaded.
        view: Returns the plan view of a model (its table, codec and clause builder).
        secondary: Returns an association table by name.
        dialect: ``"postgresql"`` or ``"sqlite"``.
    """

    def __init__(
        self,
        info: ModelInfo,
        profile: str,
        view: Callable[[type[Any]], PlanView],
        secondary: Callable[[str], Any],
        dialect: str,
    ) -> None:
        self._view = view
        self._secondary = secondary
        self._postgres = dialect == "postgresql"
        relations, projections = info.fields_for_profile(profile)
        self.empty = not relations and not projections
        self._loads = tuple(self._load(info, rel) for rel in relations)
        loaded = {rel.name for rel in relations}
        self._counts = tuple(
            _Count(
                name=proj.name,
                relation=proj.info.relation,
                parent_key=self._parent_key(info, info.relations[proj.info.relation]),
                read=None
                if proj.info.relation in loaded
                else ReadStatement(self._count(info, info.relations[proj.info.relation])),
            )
            for proj in projections
        )

    # -- statements -------------------------------------------------------------------------

    def _keys(self, column: ColumnElement[Any]) -> ColumnElement[bool]:
        if self._postgres:
            keys = bindparam("keys", type_=ARRAY(column.type))
            return column == any_(keys)
        return column.in_(bindparam("keys", expanding=True))

    @staticmethod
    def _parent_key(info: ModelInfo, rel: RelationSpec) -> str:
        fk = rel.info.foreign_key or ""
        if rel.kind is RelationKind.ONE_TO_MANY:
            return _referenced(model_info(rel.target), fk, info.pk)
        if rel.kind is RelationKind.MANY_TO_ONE:
            return fk
        return info.pk

    def _target_key(self, info: ModelInfo, rel: RelationSpec) -> str:
        target = model_info(rel.target)
        if rel.kind is RelationKind.ONE_TO_MANY:
            return rel.info.foreign_key or ""
        if rel.kind is RelationKind.MANY_TO_ONE:
            return _referenced(info, rel.info.foreign_key or "", target.pk)
        return target.pk

    def _load(self, info: ModelInfo, rel: RelationSpec) -> _Load:
        target = model_info(rel.target)
        view = self._view(rel.target)
        names = view.codec.names
        pk_index = names.index(target.pk)
        parent_key = self._parent_key(info, rel)
        if rel.kind is RelationKind.MANY_TO_MANY:
            link = self._secondary(rel.info.secondary or "")
            local, remote = link.c[rel.info.local_key], link.c[rel.info.remote_key]
            table = view.clauses.table
            statement = (
                select(local, *view.columns)
                .select_from(link.join(table, remote == table.c[target.pk]))
                .where(self._keys(local))
                .order_by(*view.clauses.order_by((SortSpec(field=target.pk),)))
            )
            read = ReadStatement(statement)
            return _Load(rel.name, True, parent_key, read, view.codec, None, pk_index + 1)
        key = self._target_key(info, rel)
        sort: list[SortSpec] = []
        order = rel.info.order_by
        if order:
            field = order.lstrip("-")
            sort.append(SortSpec(field=field, direction="DESC" if order[0] == "-" else "ASC"))
        if not any(spec.field == target.pk for spec in sort):
            sort.append(SortSpec(field=target.pk))
        statement = (
            select(*view.columns)
            .where(self._keys(view.clauses.table.c[key]))
            .order_by(*view.clauses.order_by(sort))
        )
        many = rel.kind is RelationKind.ONE_TO_MANY
        read = ReadStatement(statement)
        return _Load(rel.name, many, parent_key, read, view.codec, names.index(key), pk_index)

    def _count(self, info: ModelInfo, rel: RelationSpec) -> Select[Any]:
        target = model_info(rel.target)
        table = self._view(rel.target).clauses.table
        if rel.kind is RelationKind.MANY_TO_MANY:
            link = self._secondary(rel.info.secondary or "")
            local, remote = link.c[rel.info.local_key], link.c[rel.info.remote_key]
            return (
                select(local, func.count(func.distinct(table.c[target.pk])))
                .select_from(link.join(table, remote == table.c[target.pk]))
                .where(self._keys(local))
                .group_by(local)
            )
        key = table.c[self._target_key(info, rel)]
        return select(key, func.count()).where(self._keys(key)).group_by(key)

    # -- loading ----------------------------------------------------------------------------

    async def attach(self, read: Reader, parents: Sequence[dict[str, Any]]) -> None:
        """Set the profile's relation and projection values on each of ``parents``.

        Args:
            read: Runs the loader's statements (in the parents' unit of work).
            parents: The parents' column values, by name; completed in place.
        """
        if self.empty or not parents:
            return
        loaded: dict[str, dict[Any, list[Any]]] = {}
        for load in self._loads:
            groups = loaded[load.name] = await self._fetch(read, load, parents)
            entity = load.codec.entity
            for parent in parents:
                # a fresh entity per parent: two parents never share one object
                rows = groups.get(parent.get(load.parent_key), ())
                if load.many:
                    parent[load.name] = [entity(row) for row in rows]
                else:
                    parent[load.name] = entity(rows[0]) if rows else None
        for count in self._counts:
            if count.read is None:
                groups = loaded[count.relation]
                for parent in parents:
                    parent[count.name] = len(groups.get(parent.get(count.parent_key), ()))
                continue
            keys = _distinct(parent.get(count.parent_key) for parent in parents)
            totals: dict[Any, int] = {}
            if keys:
                counted = await read(count.read, {"keys": keys})
                totals = {key: int(total) for key, total in counted}
            for parent in parents:
                parent[count.name] = totals.get(parent.get(count.parent_key), 0)

    async def _fetch(
        self, read: Reader, load: _Load, parents: Sequence[dict[str, Any]]
    ) -> dict[Any, list[Any]]:
        keys = _distinct(parent.get(load.parent_key) for parent in parents)
        if not keys:
            return {}
        result = await read(load.read, {"keys": keys})
        groups: dict[Any, list[Any]] = {}
        if load.key_index is None:
            seen: set[tuple[Any, Any]] = set()
            for row in result:
                marker = (row[0], row[load.target_pk_index])
                if marker not in seen:
                    seen.add(marker)
                    groups.setdefault(row[0], []).append(tuple(row)[1:])
            return groups
        key_index = load.key_index
        for row in result:
            groups.setdefault(row[key_index], []).append(row)
        return groups


def _distinct(values: Any) -> list[Any]:
    return [value for value in dict.fromkeys(values) if value is not None]
