"""``RepositorySQLAlchemy``: the whole ``RepoFor`` contract on SQLAlchemy Core."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import msgspec
from sqlalchemy import Executable, Select, Table, insert, literal, select
from sqlalchemy.engine import CursorResult as SQLResult
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection

from loom.core.errors import FieldError, ValidationError
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
    filter_value_problem,
    validate_query,
)
from loom.store._lean import LeanReadError
from loom.store._plan import PK_PARAM, ModelPlan, value_param
from loom.store._reads import ReadStatement
from loom.store._relations import ProfileLoader
from loom.store._translate import lost_connection, operation_error
from loom.store.errors import ReadOnlyError

if TYPE_CHECKING:
    from loom.store._uow import SQLUnitOfWork

__all__ = ["RepositorySQLAlchemy"]

M = TypeVar("M")
Id = TypeVar("Id")

_FAILURES = (SQLAlchemyError, OSError, TimeoutError)
_NO_KEY: Any = object()  # an id of the wrong type: no row has it
_BATCH = 1000  # rows per INSERT statement (SQLAlchemy's insertmanyvalues page size)
_SQLITE_VARIABLES = 32_000  # SQLite's bound-parameter limit is 32766 since 3.32


class RepositorySQLAlchemy(Generic[M, Id]):
    """The repository of one model in one :class:`~loom.store.sqlalchemy.SQLUnitOfWork`.

    Every statement runs on the unit of work's connection, inside its transaction, with
    values bound as parameters. Subclass it and register the subclass with
    :func:`~loom.store.sqlalchemy.repository_for` to give a model a custom repository;
    the unit of work then builds it for that model. Custom queries start from
    :meth:`select` (or :attr:`table`) and decode with :meth:`fetch_one`/:meth:`fetch_all`.

    Example::

        @repository_for(Product, contract=ProductRepo)
        class ProductRepository(RepositorySQLAlchemy[Product, int]):
            async def create(self, data: WriteData) -> Product:
                payload = msgspec.to_builtins(data)
                payload["name"] = str(payload["name"]).strip()
                return await super().create(payload)

    Args:
        uow: The unit of work whose connection and transaction are used.
        model: The model class served.
    """

    def __init__(self, uow: SQLUnitOfWork, model: type[M]) -> None:
        self.uow = uow
        self.model = model
        self.plan: ModelPlan[M] = uow.context.plan(model)
        self.info = self.plan.info
        self.codec = self.plan.codec
        self._key_type = self.info.columns[self.info.pk].python_type

    @property
    def connection(self) -> AsyncConnection:
        """The unit of work's connection, once it has connected (see :meth:`connect`)."""
        return self.uow.connection

    async def connect(self) -> AsyncConnection:
        """The unit of work's connection, checked out on first use (for custom statements)."""
        return await self.uow.connect()

    @property
    def table(self) -> Table:
        """The model's table (for custom statements in subclasses)."""
        return self.plan.table

    def select(self) -> Select[Any]:
        """``SELECT`` of every column of the model's table, ready for ``.where(...)``.

        Rows of such a statement decode with :meth:`fetch_one`/:meth:`fetch_all`.
        """
        return self.plan.select_all

    async def fetch_one(self, statement: Select[Any]) -> M | None:
        """Run a :meth:`select`-based statement; return the first entity or ``None``."""
        rows = await self._read(statement, None, operation="fetch")
        return self.codec.entity(rows[0]) if rows else None

    async def fetch_all(self, statement: Select[Any]) -> list[M]:
        """Run a :meth:`select`-based statement; return every entity, in order."""
        return self.codec.entities(await self._read(statement, None, operation="fetch"))

    @property
    def read_only(self) -> bool:
        """True when the unit of work refuses writes."""
        return self.uow.read_only

    # -- reads ------------------------------------------------------------------------------

    async def get(self, id: Id, *, profile: str = "default") -> M | None:
        """Return the entity with primary key ``id`` (and what ``profile`` loads), or ``None``."""
        loader = self._loader(profile)
        key = self._key(id)
        if key is _NO_KEY:
            return None
        rows = await self._read(self.plan.get_read, {PK_PARAM: key}, operation="get")
        if not rows:
            return None
        if loader.empty:
            return self.codec.entity(rows[0])
        return (await self._entities(rows[:1], loader))[0]

    async def exists(self, where: Mapping[str, Any] | FilterGroup) -> bool:
        """True when a row matches ``where`` (a mapping means equalities; ``None``: IS NULL)."""
        clause = self.plan.clauses.where(self._filters(where))
        statement = self.plan.exists_any
        if clause is not None:
            statement = select(literal(1)).select_from(self.plan.table).where(clause).limit(1)
        result = await self._run(statement, operation="exists")
        return result.first() is not None

    async def count(self, filters: FilterGroup | None = None) -> int:
        """Count the rows matching ``filters`` (every row when ``None``)."""
        return await self._count(self.plan.clauses.where(self._filters(filters)))

    async def list_with_query(
        self, query: QuerySpec, *, profile: str = "default"
    ) -> PageResult[M] | CursorResult[M]:
        """Return one offset page (with the total) or one keyset page of ``query``.

        The query is validated first (unknown fields, wrong values, limits): a
        ``ValidationError`` is raised before any SQL runs.
        """
        validate_query(query, self.model)
        loader = self._loader(profile)
        sort = keyset_sort(query.sort, self.info.pk)
        if query.mode is PaginationMode.CURSOR:
            return await self._cursor_page(query, sort, loader)
        read, params = self.plan.pages.offset(
            query.filters, sort, limit=query.limit, offset=query.offset
        )
        rows = await self._read(read, params, operation="list")
        if rows:
            total = int(rows[0][-1])
        elif query.offset:
            total = await self._count(self.plan.clauses.where(query.filters))
        else:
            total = 0
        return PageResult(
            items=await self._entities(rows, loader),
            total_count=total,
            page=query.page,
            limit=query.limit,
            has_next=query.offset + len(rows) < total,
        )

    async def _cursor_page(
        self, query: QuerySpec, sort: tuple[SortSpec, ...], loader: ProfileLoader
    ) -> CursorResult[M]:
        codec = self.uow.context.codec
        signature = f"{self.info.table_name}|{sort_signature(sort)}"
        after: Sequence[Any] | None = None
        if query.cursor is not None:
            after = codec.decode(query.cursor, signature)
            self._check_cursor(after, sort)
        read, params = self.plan.pages.cursor(
            query.filters, sort, limit=query.limit + 1, after=after
        )
        rows = await self._read(read, params, operation="list")
        has_next = len(rows) > query.limit
        rows = rows[: query.limit]
        next_cursor = None
        if has_next:
            names = self.codec.names
            last = rows[-1]
            next_cursor = codec.encode([last[names.index(s.field)] for s in sort], signature)
        return CursorResult(
            items=await self._entities(rows, loader),
            next_cursor=next_cursor,
            has_next=has_next,
        )

    def _check_cursor(self, values: Sequence[Any], sort: Sequence[SortSpec]) -> None:
        """A decoded cursor must hold one fitting value per sort field (else 422)."""
        if len(values) != len(sort):
            raise invalid_cursor()
        columns = self.info.columns
        for value, spec in zip(values, sort, strict=True):
            column = columns[spec.field]
            if value is None:
                if not column.nullable:
                    raise invalid_cursor()
            elif filter_value_problem(FilterOp.EQ, value, column.python_type) is not None:
                raise invalid_cursor()

    # -- writes -----------------------------------------------------------------------------

    async def create(self, data: WriteData) -> M:
        """Insert one row (``INSERT ... RETURNING``) and return it with generated values."""
        self._check_writable("create")
        row = self.codec.for_insert(data)
        result = await self._run(self.plan.insert, row, operation="create", rows=(row,))
        return self.codec.entity(result.one())

    async def create_many(self, items: Sequence[WriteData]) -> list[M]:
        """Insert every item, or none when one fails; return the entities in order.

        Rows with the same columns go in one multi-row ``INSERT ... RETURNING``; when
        more than one statement is needed they run inside a savepoint.
        """
        self._check_writable("create_many")
        rows = [self.codec.for_insert(item) for item in items]
        if not rows:
            return []
        limit = self._rows_per_statement(len(self.plan.columns))
        batches: list[list[dict[str, Any]]] = []
        for row in rows:
            last = batches[-1] if batches else None
            if last is not None and last[0].keys() == row.keys() and len(last) < limit:
                last.append(row)
            else:
                batches.append([row])
        if len(batches) == 1:
            return await self._insert_batch(batches[0])
        created: list[M] = []
        try:
            async with (await self.uow.connect()).begin_nested():
                for batch in batches:
                    created.extend(await self._insert_batch(batch))
        except _FAILURES as exc:
            raise await self._error(exc, "create_many", rows=rows) from exc
        return created

    def _rows_per_statement(self, width: int) -> int:
        if self.plan.dialect == "sqlite":
            return max(1, min(_BATCH, _SQLITE_VARIABLES // max(1, width)))
        return _BATCH

    async def _insert_batch(self, rows: list[dict[str, Any]]) -> list[M]:
        if self.plan.dialect != "sqlite":
            # asyncpg: one INSERT ... VALUES (...), (...) RETURNING in parameter order
            result = await self._run(
                self.plan.insert_many, rows, operation="create_many", rows=rows
            )
            return self.codec.entities(result.all())
        # SQLite returns RETURNING rows in no promised order, and SQLAlchemy would fall
        # back to one statement per row: send one multi-row INSERT, then restore the order
        # through the primary key (given, or assigned in ascending order).
        statement = insert(self.plan.table).values(rows).returning(*self.plan.columns)
        result = await self._run(statement, operation="create_many", rows=rows)
        pk_index = self.codec.names.index(self.info.pk)
        returned = result.all()
        pk = self.info.pk
        if pk in rows[0]:
            by_key = {row[pk_index]: row for row in returned}
            ordered = [by_key[row[pk]] for row in rows]
        else:
            ordered = sorted(returned, key=lambda row: row[pk_index])
        return self.codec.entities(ordered)

    async def update(self, id: Id, data: WriteData) -> M | None:
        """Set the given columns in one ``UPDATE ... RETURNING``; ``None`` for an unknown id.

        Absent and ``UNSET`` fields are left untouched, an explicit ``None`` sets NULL, and
        ``server_onupdate="now"`` columns are refreshed. An update with nothing to set
        returns the current row.
        """
        self._check_writable("update")
        key = self._key(id)
        if key is _NO_KEY:
            return None
        values = self.codec.for_update(key, data)
        if not values:
            return await self.get(key)
        statement = self.plan.update_for(frozenset(values))
        params = {value_param(name): value for name, value in values.items()}
        params[PK_PARAM] = key
        result = await self._run(statement, params, operation="update", rows=(values,))
        row = result.first()
        return None if row is None else self.codec.entity(row)

    async def delete(self, id: Id) -> bool:
        """Delete the row (the database applies ``ON DELETE``); ``False`` when there was none."""
        self._check_writable("delete")
        key = self._key(id)
        if key is _NO_KEY:
            return False
        result = await self._run(self.plan.delete, {PK_PARAM: key}, operation="delete", key=key)
        return bool(result.rowcount)

    # -- helpers ----------------------------------------------------------------------------

    async def _read(
        self,
        statement: Select[Any] | ReadStatement,
        params: Mapping[str, Any] | None,
        *,
        operation: str,
    ) -> Sequence[Sequence[Any]]:
        """Every row of a read, as sequences in :attr:`RowCodec.names` order.

        The one place reads reach the database (``get``, list pages, ``fetch_*``). On
        PostgreSQL a :class:`ReadStatement` (a statement the plan built once) runs
        through the lean path, an asyncpg prepared statement on the unit of work's
        connection; anything else, or a statement the lean path does not take, runs
        through SQLAlchemy. Decoding stays in :class:`RowCodec` either way.
        """
        if isinstance(statement, ReadStatement):
            lean = await self.uow.lean()
            if lean is not None:
                try:
                    rows = await lean.fetch(statement, params or {})
                except LeanReadError as exc:
                    if exc.lost:
                        raise lost_connection(exc.error, during=operation) from exc.error
                    raise await self._error(exc.error, operation) from exc.error
                if rows is not None:
                    return rows
            statement = statement.statement
        return (await self._run(statement, params, operation=operation)).all()

    async def _run(
        self,
        statement: Executable,
        params: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None,
        *,
        operation: str,
        rows: Sequence[Mapping[str, Any]] = (),
        key: Any = None,
    ) -> SQLResult[Any]:
        """Execute ``statement``; a database failure becomes a loom error."""
        connection = await self.uow.connect()
        try:
            return await connection.execute(statement, params)
        except _FAILURES as exc:
            raise await self._error(exc, operation, rows=rows, key=key) from exc

    async def _error(
        self,
        exc: BaseException,
        operation: str,
        *,
        rows: Sequence[Mapping[str, Any]] = (),
        key: Any = None,
    ) -> Exception:
        return await operation_error(
            exc,
            connection=self.connection,
            table=self.plan.table,
            dialect=self.plan.dialect,
            operation=operation,
            rows=rows,
            key=key,
        )

    async def _read_for_loader(
        self, read: ReadStatement, params: Mapping[str, Any]
    ) -> Sequence[Sequence[Any]]:
        return await self._read(read, params, operation="load")

    async def _count(self, where: Any) -> int:
        statement = self.plan.count_all if where is None else self.plan.count_all.where(where)
        result = await self._run(statement, operation="count")
        return int(result.scalar_one())

    async def _entities(self, rows: Sequence[Sequence[Any]], loader: ProfileLoader) -> list[M]:
        if loader.empty:
            return self.codec.entities(rows)
        values = [self.codec.values(row) for row in rows]
        await loader.attach(self._read_for_loader, values)
        model = self.model
        return [model(**item) for item in values]

    def _key(self, id: Any) -> Any:
        """``id`` as the primary key's type, or ``_NO_KEY`` when no row can have it."""
        if type(id) is self._key_type:
            return id
        try:
            return msgspec.convert(id, self._key_type)
        except msgspec.ValidationError:
            return _NO_KEY

    def _loader(self, profile: str) -> ProfileLoader:
        if profile not in self.info.profiles:
            known = ", ".join(sorted(self.info.profiles))
            raise ValidationError(
                errors=[FieldError("profile", f"unknown profile {profile!r}; use one of: {known}")]
            )
        return self.plan.profile(profile)

    def _check_writable(self, operation: str) -> None:
        if self.uow.read_only:
            raise ReadOnlyError(
                f"{self.model.__qualname__} repository: {operation}() in a read-only unit of work"
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
