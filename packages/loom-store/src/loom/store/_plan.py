"""Per-model statement plans: every fixed statement built once per store and reused."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

from sqlalchemy import (
    Column,
    Delete,
    Insert,
    Select,
    Table,
    Update,
    bindparam,
    delete,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.sql.elements import ColumnElement

from loom.core.model import ModelInfo, model_info
from loom.store._filters import ClauseBuilder
from loom.store._mapping import now_expression
from loom.store._pages import PageStatements
from loom.store._reads import ReadStatement
from loom.store._relations import PlanView, ProfileLoader
from loom.store._rows import RowCodec

__all__ = ["PK_PARAM", "ModelPlan", "value_param"]

M = TypeVar("M")

PK_PARAM = "loom_pk"
"""Name of the bound parameter holding the primary key in get/update/delete statements."""


def value_param(column: str) -> str:
    """Name of the bound parameter holding ``column``'s new value in an UPDATE."""
    return f"loom_v_{column}"


class ModelPlan(Generic[M]):
    """The statements, codec and clause builder of one model in one store.

    Fixed statements (get by id, insert, delete, count, exists) are built here once;
    UPDATE statements are built once per set of columns; list pages once per query shape
    (:attr:`pages`); profile loaders once per profile. The reads the repository runs most
    (:attr:`get_read`, the pages) are :class:`ReadStatement` objects, which the lean read
    path compiles once for asyncpg.

    Args:
        model: The model class.
        table: Its table.
        dialect: ``"postgresql"`` or ``"sqlite"``.
        view: Returns the plan view of another model (for relations).
        secondary: Returns an association table by name.
    """

    def __init__(
        self,
        model: type[M],
        table: Table,
        dialect: str,
        view: Callable[[type[Any]], PlanView],
        secondary: Callable[[str], Table],
    ) -> None:
        info: ModelInfo = model_info(model)
        self.model = model
        self.info = info
        self.table = table
        self.dialect = dialect
        self.columns: tuple[Column[Any], ...] = tuple(table.c)
        self.pk: Column[Any] = table.c[info.pk]
        self.codec: RowCodec[M] = RowCodec(model, [c.key for c in self.columns])
        self.clauses = ClauseBuilder(table, dialect)
        self._view = view
        self._secondary = secondary
        pk_param = bindparam(PK_PARAM, type_=self.pk.type)
        self.select_all: Select[Any] = select(*self.columns)
        self.get_by_id: Select[Any] = self.select_all.where(self.pk == pk_param)
        self.get_read = ReadStatement(self.get_by_id)
        self.pages = PageStatements(table, self.columns, self.clauses)
        self.insert: Insert = insert(table).returning(*self.columns)
        self.insert_many: Insert = insert(table).returning(
            *self.columns, sort_by_parameter_order=True
        )
        self.delete: Delete = delete(table).where(self.pk == pk_param)
        self.count_all: Select[Any] = select(func.count()).select_from(table)
        self.exists_any: Select[Any] = select(literal(1)).select_from(table).limit(1)
        self._onupdate: dict[str, ColumnElement[Any]] = {
            name: now_expression(info.columns[name]) for name in self.codec.onupdate
        }
        self._updates: dict[frozenset[str], Update] = {}
        self._profiles: dict[str, ProfileLoader] = {}

    def view(self) -> PlanView:
        """What relation loaders of other models need from this plan."""
        return PlanView(codec=self.codec, columns=self.columns, clauses=self.clauses)

    def update_for(self, names: frozenset[str]) -> Update:
        """``UPDATE ... SET <names> WHERE pk = :loom_pk RETURNING *``, built once per set.

        Columns with ``server_onupdate="now"`` are set to the database's time unless named.
        """
        statement = self._updates.get(names)
        if statement is None:
            values: dict[str, Any] = {
                name: bindparam(value_param(name), type_=self.table.c[name].type)
                for name in sorted(names)
            }
            for name, expression in self._onupdate.items():
                values.setdefault(name, expression)
            statement = (
                update(self.table)
                .where(self.pk == bindparam(PK_PARAM, type_=self.pk.type))
                .values(values)
                .returning(*self.columns)
            )
            self._updates[names] = statement
        return statement

    def profile(self, profile: str) -> ProfileLoader:
        """The loader of ``profile``'s relations and projections (built once)."""
        loader = self._profiles.get(profile)
        if loader is None:
            loader = ProfileLoader(self.info, profile, self._view, self._secondary, self.dialect)
            self._profiles[profile] = loader
        return loader
