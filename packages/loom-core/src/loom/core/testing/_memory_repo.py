"""``InMemoryRepository``: the whole ``RepoFor`` contract over an ``InMemoryDatabase``."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from loom.core.errors import Conflict, FieldError, InternalError, ValidationError
from loom.core.model import RelationKind, RelationSpec, model_info
from loom.core.repository.abc import WriteData
from loom.core.repository.abc.cursor import invalid_cursor, keyset_sort, sort_signature
from loom.core.repository.abc.query import (
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
from loom.core.testing._memory_eval import Row, compare_keys, matches, row_key, sort_rows
from loom.core.testing._memory_rows import (
    detach,
    payload_of,
    server_value,
    struct_defaults,
    typed_row,
)
from loom.core.testing._memory_store import InMemoryDatabase

__all__ = ["InMemoryRepository"]

T = TypeVar("T")


class InMemoryRepository(Generic[T]):
    """The repository of one model over an :class:`InMemoryDatabase`, with SQL semantics.

    Subclass it and register the subclass with
    :func:`~loom.core.repository.registry.repository_for` to give a model a custom
    repository in tests; :class:`InMemoryUnitOfWork` builds it for that model.

    Args:
        db: The database holding the rows.
        model: The model class served.
        read_only: Refuse writes (set by a read-only unit of work).
        clock: The current UTC time, for ``server_default``/``server_onupdate="now"``.
    """

    def __init__(
        self,
        db: InMemoryDatabase,
        model: type[T],
        *,
        read_only: bool = False,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.db = db
        self.model = model
        self.info = model_info(model)
        self.read_only = read_only
        self._clock = clock or (lambda: datetime.now(UTC))
        self._table = db.table(model)

    # -- reads ----------------------------------------------------------------------------

    async def get(self, id: Any, *, profile: str = "default") -> T | None:
        """Return the entity with primary key ``id``, or ``None``."""
        self._check_profile(profile)
        row = self._table.rows.get(id)
        return None if row is None else self._entity(row, profile)

    async def exists(self, where: Mapping[str, Any] | FilterGroup) -> bool:
        """True when a row matches ``where`` (a mapping means equalities; ``None``: IS NULL)."""
        group = self._filters(where)
        return any(matches(group, row) for row in self._table.rows.values())

    async def count(self, filters: FilterGroup | None = None) -> int:
        """Count the rows matching ``filters``."""
        group = self._filters(filters)
        return sum(1 for row in self._table.rows.values() if matches(group, row))

    async def list_with_query(
        self, query: QuerySpec, *, profile: str = "default"
    ) -> PageResult[T] | CursorResult[T]:
        """Return one offset or cursor page of the rows matching ``query``."""
        validate_query(query, self.model)
        self._check_profile(profile)
        rows = [row for row in self._table.rows.values() if matches(query.filters, row)]
        sort = keyset_sort(query.sort, self.info.pk)
        if query.mode is PaginationMode.CURSOR:
            return self._cursor_page(rows, sort, query, profile)
        ordered = sort_rows(rows, sort)
        page = ordered[query.offset : query.offset + query.limit]
        return PageResult(
            items=[self._entity(row, profile) for row in page],
            total_count=len(rows),
            page=query.page,
            limit=query.limit,
            has_next=query.offset + len(page) < len(rows),
        )

    def _cursor_page(
        self, rows: list[Row], sort: tuple[SortSpec, ...], query: QuerySpec, profile: str
    ) -> CursorResult[T]:
        signature = f"{self.info.table_name}|{sort_signature(sort)}"
        if query.cursor is not None:
            after = self.db.codec.decode(query.cursor, signature)
            if len(after) != len(sort):
                raise invalid_cursor()
            try:
                rows = [row for row in rows if compare_keys(row_key(row, sort), after, sort) > 0]
            except TypeError:
                raise invalid_cursor() from None
        ordered = sort_rows(rows, sort)
        page = ordered[: query.limit]
        has_next = len(ordered) > query.limit
        next_cursor = self.db.codec.encode(row_key(page[-1], sort), signature) if has_next else None
        return CursorResult(
            items=[self._entity(row, profile) for row in page],
            next_cursor=next_cursor,
            has_next=has_next,
        )

    # -- writes ---------------------------------------------------------------------------

    async def create(self, data: WriteData) -> T:
        """Insert one row; server defaults and the autoincrement key are filled in."""
        self._check_writable("create")
        return self._entity(self._insert(payload_of(data, self.info)), "default")

    async def create_many(self, items: Sequence[WriteData]) -> list[T]:
        """Insert every item, or none when one fails."""
        self._check_writable("create_many")
        snapshot = self.db.snapshot()
        try:
            rows = [self._insert(payload_of(item, self.info)) for item in items]
        except BaseException:
            self.db.restore(snapshot)
            raise
        return [self._entity(row, "default") for row in rows]

    async def update(self, id: Any, data: WriteData) -> T | None:
        """Set the given columns (``None`` sets NULL); ``None`` when ``id`` is unknown.

        Columns with ``server_onupdate`` are refreshed unless given. An update that sets
        nothing changes nothing.
        """
        self._check_writable("update")
        current = self._table.rows.get(id)
        if current is None:
            return None
        payload = payload_of(data, self.info)
        pk = self.info.pk
        if pk in payload and payload[pk] != id:
            raise ValidationError(errors=[FieldError(pk, "the primary key cannot be changed")])
        if not payload:
            return self._entity(current, "default")
        now = self._clock()
        refreshed = {
            name: server_value(column.info.server_onupdate, column, now)
            for name, column in self.info.columns.items()
            if column.info.server_onupdate and name not in payload
        }
        row = self._checked({**current, **refreshed, **payload}, set(payload), own_key=id)
        self._table.rows[id] = row
        return self._entity(row, "default")

    async def delete(self, id: Any) -> bool:
        """Delete the row, applying the ``on_delete`` rules of the foreign keys to it."""
        self._check_writable("delete")
        return self.db.delete(self._table, id)

    def _insert(self, payload: dict[str, Any]) -> Row:
        info, pk = self.info, self.info.pk
        if payload.get(pk, 0) is None and info.columns[pk].info.autoincrement:
            del payload[pk]
        now = self._clock()
        defaults = struct_defaults(self.model)
        errors: list[FieldError] = []
        row: dict[str, Any] = {}
        for name, column in info.columns.items():
            if name in payload:
                row[name] = payload[name]
            elif name == pk and column.info.autoincrement:
                continue
            elif name in defaults:
                row[name] = defaults[name]()
            elif column.info.server_default is not None:
                row[name] = server_value(column.info.server_default, column, now)
            elif column.nullable:
                row[name] = None
            else:
                errors.append(FieldError(name, "required"))
        if errors:
            raise ValidationError(errors=errors)
        given_key = pk in row
        if not given_key:
            row[pk] = self._table.counter + 1
        checked = self._checked(row, set(row), own_key=None)
        if given_key:
            self._table.saw_id(checked[pk])
        else:
            self._table.next_id()
        self._table.rows[checked[pk]] = checked
        return checked

    def _checked(self, row: Mapping[str, Any], changed: set[str], *, own_key: Any) -> Row:
        """Type-check ``row``, then its foreign keys, then its unique columns."""
        errors: list[FieldError] = []
        typed = typed_row(self.info, row, errors)
        if errors:
            raise ValidationError(errors=errors)
        for name, column in self.info.columns.items():
            fk, value = column.info.foreign_key, typed[name]
            if (
                fk
                and value is not None
                and name in changed
                and not self.db.parent_exists(fk, value)
            ):
                errors.append(FieldError(name, f"no {fk} row with the value {value!r}"))
        if errors:
            raise ValidationError(errors=errors)
        taken = [
            name
            for name, column in self.info.columns.items()
            if (column.info.unique or column.info.primary_key)
            and name in changed
            and typed[name] is not None
            and self._taken(name, typed[name], own_key)
        ]
        if taken:
            raise Conflict(fields=taken)
        return typed

    def _taken(self, column: str, value: Any, own_key: Any) -> bool:
        return any(key != own_key for key in self._table.find(column, value))

    # -- helpers --------------------------------------------------------------------------

    def _check_writable(self, operation: str) -> None:
        if self.read_only:
            raise InternalError(
                f"{self.model.__qualname__} repository: {operation}() in a read-only unit of work"
            )

    def _check_profile(self, profile: str) -> None:
        if profile not in self.info.profiles:
            known = ", ".join(sorted(self.info.profiles))
            raise ValidationError(
                errors=[FieldError("profile", f"unknown profile {profile!r}; use one of: {known}")]
            )

    def _filters(self, where: Mapping[str, Any] | FilterGroup | None) -> FilterGroup | None:
        if where is not None and not isinstance(where, FilterGroup):
            where = FilterGroup(
                filters=tuple(
                    FilterSpec(field=name, op=FilterOp.IS_NULL, value=True)
                    if value is None
                    else FilterSpec(field=name, value=value)
                    for name, value in where.items()
                )
            )
        validate_query(QuerySpec(filters=where), self.model)
        return where

    def _entity(self, row: Row, profile: str) -> T:
        values = {name: detach(row.get(name)) for name in self.info.columns}
        relations, projections = self.info.fields_for_profile(profile)
        loaded: dict[str, list[Row]] = {}
        for rel in relations:
            related = loaded[rel.name] = self._related_rows(rel, row)
            entities = [_build(rel.target, r) for r in related]
            if rel.kind is RelationKind.MANY_TO_ONE:
                values[rel.name] = entities[0] if entities else None
            else:
                values[rel.name] = entities
        for proj in projections:
            rel = self.info.relations[proj.info.relation]
            counted = loaded.get(rel.name)
            if counted is None:
                counted = self._related_rows(rel, row)
            values[proj.name] = len(counted)
        return self.model(**values)

    def _related_rows(self, rel: RelationSpec, row: Row) -> list[Row]:
        target = model_info(rel.target)
        table = self.db.table(rel.target)
        if rel.kind is RelationKind.ONE_TO_MANY:
            fk = rel.info.foreign_key or ""
            declared = target.columns[fk].info.foreign_key if fk in target.columns else None
            value = row.get(declared.rpartition(".")[2] if declared else self.info.pk)
            found = [r for r in table.rows.values() if value is not None and r.get(fk) == value]
            order = rel.info.order_by
            if order:
                spec = SortSpec(
                    field=order.lstrip("-"), direction="DESC" if order[0] == "-" else "ASC"
                )
                return sort_rows(found, keyset_sort((spec,), target.pk))
            return sort_rows(found, keyset_sort((), target.pk))
        if rel.kind is RelationKind.MANY_TO_ONE:
            fk = rel.info.foreign_key or ""
            value = row.get(fk)
            declared = self.info.columns[fk].info.foreign_key
            column = declared.rpartition(".")[2] if declared else target.pk
            return [] if value is None else [table.rows[k] for k in table.find(column, value)]
        secondary = self.db.tables.get(rel.info.secondary or "")
        if secondary is None:
            return []
        local, remote = rel.info.local_key or "", rel.info.remote_key or ""
        own = row.get(self.info.pk)
        ids = dict.fromkeys(r.get(remote) for r in secondary.rows.values() if r.get(local) == own)
        found = [table.rows[i] for i in ids if i in table.rows]
        return sort_rows(found, keyset_sort((), target.pk))


def _build(model: type[Any], row: Row) -> Any:
    columns = model_info(model).columns
    return model(**{name: detach(row.get(name)) for name in columns})
