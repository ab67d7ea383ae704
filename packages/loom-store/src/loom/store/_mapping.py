"""loom model declarations to SQLAlchemy ``Table`` objects in one ``MetaData``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import Column, ForeignKey, MetaData, PrimaryKeyConstraint, Table, text
from sqlalchemy.sql.elements import ColumnElement, TextClause

from loom.core.errors import CompilationError
from loom.core.model import ColumnSpec, ModelInfo, RelationKind, RelationSpec, model_info
from loom.store._columns import sql_type
from loom.store._types import utc_now

__all__ = ["NAMING_CONVENTION", "NOW_WORDS", "Catalog", "build_catalog", "now_expression"]

NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(column_0_N_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
"""Constraint and index names: stable, so migrations and error messages can rely on them."""

NOW_WORDS = frozenset({"now", "now()", "current_timestamp"})
"""``server_default``/``server_onupdate`` values that mean the database's current UTC time."""


@dataclass(frozen=True, slots=True)
class Catalog:
    """The tables of one store: one per model, plus the association tables without a model.

    Attributes:
        metadata: Every table, with loom's naming convention.
        tables: The table of each model.
        models: The models, in the order they were collected.
    """

    metadata: MetaData
    tables: Mapping[type[Any], Table]
    models: tuple[type[Any], ...] = field(default=())

    def table(self, model: type[Any]) -> Table:
        """Return ``model``'s table.

        Raises:
            CompilationError: ``model`` is not one of the store's models.
        """
        found = self.tables.get(model)
        if found is None:
            known = ", ".join(sorted(m.__qualname__ for m in self.tables))
            raise CompilationError(
                f"{getattr(model, '__qualname__', model)!r} is not one of the store's models "
                f"({known}); pass it in models=..."
            )
        return found


def now_expression(column: ColumnSpec) -> ColumnElement[Any]:
    """The database's current UTC time, as a value for ``column`` (its date or time if so)."""
    kind = column.python_type if column.python_type in (date, time) else datetime
    return utc_now(kind)


def _server_default(column: ColumnSpec) -> ColumnElement[Any] | TextClause | None:
    expression = column.info.server_default
    if expression is None:
        return None
    if expression.strip().lower() in NOW_WORDS:
        return now_expression(column)
    return text(expression)


def _column(spec: ColumnSpec) -> Column[Any]:
    info = spec.info
    args: list[Any] = []
    if info.foreign_key:
        on_delete = info.on_delete.value if info.on_delete is not None else None
        args.append(ForeignKey(info.foreign_key, ondelete=on_delete))
    extra: dict[str, Any] = {}
    if info.server_onupdate:
        extra["server_onupdate"] = info.server_onupdate
    return Column(
        spec.name,
        sql_type(spec),
        *args,
        primary_key=info.primary_key,
        autoincrement=bool(info.autoincrement) if info.primary_key else "auto",
        nullable=spec.nullable and not info.primary_key,
        unique=True if info.unique and not info.primary_key else None,
        index=True if info.index and not info.primary_key else None,
        server_default=_server_default(spec),
        info={"loom": extra} if extra else {},
    )


def _collect(models: Iterable[type[Any]]) -> list[type[Any]]:
    found: list[type[Any]] = []
    pending = list(models)
    while pending:
        model = pending.pop(0)
        if model in found:
            continue
        found.append(model)
        pending.extend(rel.target for rel in model_info(model).relations.values())
    return found


def _association(
    metadata: MetaData, owner: ModelInfo, rel: RelationSpec, tables: Mapping[str, Table]
) -> None:
    name = rel.info.secondary or ""
    local, remote = rel.info.local_key or "", rel.info.remote_key or ""
    known = metadata.tables.get(name)
    if known is not None:
        if not {local, remote} <= set(known.c.keys()):
            raise CompilationError(
                f"{owner.model.__qualname__}.{rel.name}: table {name!r} has no columns "
                f"{local!r} and {remote!r}"
            )
        return
    target = model_info(rel.target)
    owner_pk = tables[owner.table_name].c[owner.pk]
    target_pk = tables[target.table_name].c[target.pk]
    Table(
        name,
        metadata,
        Column(local, owner_pk.type, ForeignKey(owner_pk, ondelete="CASCADE"), nullable=False),
        Column(remote, target_pk.type, ForeignKey(target_pk, ondelete="CASCADE"), nullable=False),
        PrimaryKeyConstraint(local, remote),
    )


def _check_foreign_keys(info: ModelInfo, metadata: MetaData) -> None:
    for spec in info.columns.values():
        reference = spec.info.foreign_key
        if not reference:
            continue
        table_name, _, column_name = reference.rpartition(".")
        table = metadata.tables.get(table_name)
        if table is None or column_name not in table.c:
            raise CompilationError(
                f"{info.model.__qualname__}.{spec.name}: foreign_key={reference!r} names no "
                "column of the store's tables; add its model to models=..."
            )


def build_catalog(models: Iterable[type[Any]], *, metadata: MetaData | None = None) -> Catalog:
    """Map ``models`` (and the targets of their relations) to tables in one ``MetaData``.

    ``ManyToMany`` association tables that have no model get one automatically: the two
    key columns, both foreign keys ``ON DELETE CASCADE``, as a composite primary key.

    Args:
        models: The models to map.
        metadata: Where to put the tables; a new ``MetaData`` with
            :data:`NAMING_CONVENTION` when not given.

    Raises:
        CompilationError: two models share a table name, or a foreign key or relation
            names a table or column that is not mapped.
    """
    metadata = metadata if metadata is not None else MetaData(naming_convention=NAMING_CONVENTION)
    collected = _collect(models)
    tables: dict[type[Any], Table] = {}
    by_name: dict[str, Table] = {}
    for model in collected:
        info = model_info(model)
        if info.table_name in by_name:
            raise CompilationError(
                f"table {info.table_name!r} is declared by two models "
                f"(the second is {model.__qualname__})"
            )
        ordered = sorted(info.columns.values(), key=lambda c: not c.info.primary_key)
        autoincrement = any(c.info.primary_key and c.info.autoincrement for c in ordered)
        table = Table(
            info.table_name,
            metadata,
            *(_column(c) for c in ordered),
            sqlite_autoincrement=autoincrement,
        )
        tables[model] = by_name[info.table_name] = table
    for model in collected:
        info = model_info(model)
        for rel in info.relations.values():
            if rel.kind is RelationKind.MANY_TO_MANY:
                _association(metadata, info, rel, by_name)
    for model in collected:
        _check_foreign_keys(model_info(model), metadata)
    return Catalog(metadata=metadata, tables=tables, models=tuple(collected))
