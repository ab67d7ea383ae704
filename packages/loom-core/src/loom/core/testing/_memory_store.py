"""The in-memory database: tables of row dicts, autoincrement counters, foreign-key graph."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from loom.core.errors import CompilationError, Conflict
from loom.core.model import OnDelete, RelationKind, model_info
from loom.core.repository.abc.cursor import CursorCodec

__all__ = ["InMemoryDatabase", "Snapshot", "Table"]


class Table:
    """One table: rows by primary key (insertion ordered) and the autoincrement counter."""

    __slots__ = ("counter", "model", "name", "pk", "rows")

    def __init__(self, name: str, model: type[Any] | None, pk: str) -> None:
        self.name = name
        self.model = model
        self.pk = pk
        self.rows: dict[Any, dict[str, Any]] = {}
        self.counter = 0

    def next_id(self) -> int:
        """Advance the autoincrement counter and return the new value."""
        self.counter += 1
        return self.counter

    def saw_id(self, value: Any) -> None:
        """Keep the counter past an explicitly given integer key."""
        if isinstance(value, int) and not isinstance(value, bool) and value > self.counter:
            self.counter = value

    def find(self, column: str, value: Any) -> list[Any]:
        """Return the keys of the rows whose ``column`` equals ``value``."""
        if column == self.pk:
            return [value] if value in self.rows else []
        return [key for key, row in self.rows.items() if row.get(column) == value]


@dataclass(frozen=True, slots=True, kw_only=True)
class _Reference:
    child: str
    column: str
    parent: str
    parent_column: str
    on_delete: OnDelete | None
    nullable: bool


Snapshot = dict[str, tuple[dict[Any, dict[str, Any]], int]]
"""Every table's rows and counter at one moment (rows copied, values shared)."""

_LINK_PK = "__link_id__"


class InMemoryDatabase:
    """Tables per model, living in this process; the store behind the in-memory repositories.

    Models are registered on first use (with the targets of their relations); register the
    parents of foreign keys up front, as ``create_all`` would (``InMemoryDatabase(User,
    Address)`` or :meth:`register`). Association tables of ``ManyToMany`` relations that
    have no model are filled with :meth:`link`.

    Args:
        *models: Models to register now.
        cursor_secret: HMAC key of the cursors this database's repositories hand out;
            random per instance when not given.
    """

    def __init__(self, *models: type[Any], cursor_secret: bytes | str | None = None) -> None:
        self.tables: dict[str, Table] = {}
        self.codec = CursorCodec(cursor_secret or secrets.token_bytes(32))
        self._links: dict[str, tuple[str, str]] = {}
        self._link_refs: dict[str, dict[str, str]] = {}
        self._references: dict[str, list[_Reference]] | None = None
        self.register(*models)

    def register(self, *models: type[Any]) -> None:
        """Create the tables of ``models`` (and of their relation targets) if missing."""
        for model in models:
            info = model_info(model)
            known = self.tables.get(info.table_name)
            if known is not None:
                if known.model is None:
                    known.model, known.pk = model, info.pk
                elif known.model is not model:
                    raise CompilationError(
                        f"table {info.table_name!r} is declared by both "
                        f"{known.model.__qualname__} and {model.__qualname__}"
                    )
                continue
            self.tables[info.table_name] = Table(info.table_name, model, info.pk)
            self._references = None
            for rel in info.relations.values():
                if rel.kind is RelationKind.MANY_TO_MANY and rel.info.secondary:
                    secondary = rel.info.secondary
                    local, remote = rel.info.local_key or "", rel.info.remote_key or ""
                    self._links.setdefault(secondary, (local, remote))
                    refs = self._link_refs.setdefault(secondary, {})
                    refs[local] = info.table_name
                    refs[remote] = model_info(rel.target).table_name
                self.register(rel.target)

    def table(self, model: type[Any]) -> Table:
        """Return ``model``'s table, registering the model first when needed."""
        name = model_info(model).table_name
        if name not in self.tables or self.tables[name].model is None:
            self.register(model)
        return self.tables[name]

    def link(self, secondary: str, local_id: Any, remote_id: Any) -> None:
        """Add a row to the association table ``secondary`` (one without a model).

        ``local_id``/``remote_id`` fill the ``local_key``/``remote_key`` columns of the
        first registered ``ManyToMany`` relation through ``secondary``.
        """
        keys = self._links.get(secondary)
        if keys is None:
            raise CompilationError(
                f"no registered ManyToMany relation goes through {secondary!r}; "
                "register its model first"
            )
        table = self.tables.get(secondary)
        if table is not None and table.model is not None:
            raise CompilationError(
                f"{secondary!r} is the table of {table.model.__qualname__}; "
                "create its rows through its repository"
            )
        if table is None:
            table = self.tables[secondary] = Table(secondary, None, _LINK_PK)
            self._references = None
        key = table.next_id()
        table.rows[key] = {_LINK_PK: key, keys[0]: local_id, keys[1]: remote_id}

    def rows(self, model: type[Any]) -> list[dict[str, Any]]:
        """Return copies of ``model``'s stored rows, in insertion order (for assertions)."""
        return [dict(row) for row in self.table(model).rows.values()]

    def snapshot(self) -> Snapshot:
        """Capture every table's rows and counter (what a rollback restores)."""
        return {name: (dict(t.rows), t.counter) for name, t in self.tables.items()}

    def restore(self, snapshot: Snapshot) -> None:
        """Put every table back as ``snapshot`` captured it; newer tables are emptied."""
        for name, table in self.tables.items():
            rows, counter = snapshot.get(name, ({}, 0))
            table.rows, table.counter = dict(rows), counter

    def clear(self) -> None:
        """Delete every row and reset every counter; tables stay registered."""
        self.restore({})

    # -- foreign keys -------------------------------------------------------------------

    def _parent_table(self, foreign_key: str) -> tuple[Table, str]:
        table_name, _, column = foreign_key.rpartition(".")
        table = self.tables.get(table_name)
        if table is None or table.model is None:
            raise CompilationError(
                f"foreign key {foreign_key!r}: table {table_name!r} is not registered; "
                "pass its model to InMemoryDatabase(...) or db.register(...)"
            )
        return table, column

    def parent_exists(self, foreign_key: str, value: Any) -> bool:
        """True when the row ``foreign_key`` (``"table.column"``) points at exists."""
        table, column = self._parent_table(foreign_key)
        return bool(table.find(column, value))

    def references(self, table_name: str) -> list[_Reference]:
        """Every foreign key (and association column) that points at ``table_name``."""
        if self._references is None:
            found: dict[str, list[_Reference]] = {}
            for table in self.tables.values():
                if table.model is None:
                    for column, parent in self._link_refs.get(table.name, {}).items():
                        parent_pk = self.tables[parent].pk if parent in self.tables else "id"
                        link = _Reference(
                            child=table.name,
                            column=column,
                            parent=parent,
                            parent_column=parent_pk,
                            on_delete=OnDelete.CASCADE,
                            nullable=False,
                        )
                        found.setdefault(parent, []).append(link)
                    continue
                for spec in model_info(table.model).columns.values():
                    fk = spec.info.foreign_key
                    if fk:
                        parent, _, parent_column = fk.rpartition(".")
                        ref = _Reference(
                            child=table.name,
                            column=spec.name,
                            parent=parent,
                            parent_column=parent_column,
                            on_delete=spec.info.on_delete,
                            nullable=spec.nullable,
                        )
                        found.setdefault(parent, []).append(ref)
            self._references = found
        return self._references.get(table_name, [])

    def delete(self, table: Table, key: Any) -> bool:
        """Delete one row, applying every ``on_delete`` rule that points at it.

        ``RESTRICT`` and ``NO ACTION`` (the default) behave alike: the delete fails when a
        row outside the cascade still points at a deleted row.

        Raises:
            Conflict: a reference would be left dangling (or ``SET NULL`` hits a NOT NULL
                column), naming the referencing column; nothing is deleted.
        """
        if key not in table.rows:
            return False
        doomed: dict[str, set[Any]] = {table.name: {key}}
        set_null: list[tuple[_Reference, Any]] = []
        restricted: list[tuple[_Reference, Any]] = []
        pending = [(table, key)]
        while pending:
            parent, parent_key = pending.pop()
            row = parent.rows[parent_key]
            for ref in self.references(parent.name):
                value = row.get(ref.parent_column)
                if value is None:
                    continue
                child = self.tables[ref.child]
                for child_key in child.find(ref.column, value):
                    gone = doomed.setdefault(child.name, set())
                    if ref.on_delete is OnDelete.CASCADE:
                        if child_key not in gone:
                            gone.add(child_key)
                            pending.append((child, child_key))
                    elif ref.on_delete is OnDelete.SET_NULL:
                        set_null.append((ref, child_key))
                    else:
                        restricted.append((ref, child_key))
        for ref, child_key in restricted:
            if child_key not in doomed.get(ref.child, ()):
                raise Conflict(
                    f"{table.name} {key!r} is still referenced by {ref.child}.{ref.column}",
                    fields=(ref.column,),
                )
        nulls = [(r, k) for r, k in set_null if k not in doomed.get(r.child, ())]
        for ref, _ in nulls:
            if not ref.nullable:
                raise Conflict(
                    f"{ref.child}.{ref.column} cannot be set to NULL", fields=(ref.column,)
                )
        for ref, child_key in nulls:
            child = self.tables[ref.child]
            child.rows[child_key] = {**child.rows[child_key], ref.column: None}
        for name, keys in doomed.items():
            rows = self.tables[name].rows
            for gone_key in keys:
                rows.pop(gone_key, None)
        return True
