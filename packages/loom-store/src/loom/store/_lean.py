"""The lean read path: hot reads on PostgreSQL as asyncpg prepared statements.

The statements a plan builds once (get by id, each list-page shape, and the relation
and count statements of each profile: the :class:`~loom.store._reads.ReadStatement`
objects) are compiled once more, by
SQLAlchemy's asyncpg dialect, into SQL with positional ``$n`` parameters. Each pooled
connection prepares such a statement once (named ``loom_<n>``, kept in the connection's
pool ``info``), and a read is one ``PreparedStatement.fetch`` on the unit of work's
connection, inside its transaction. Values go through the bind processors of the column
types and results through their result processors, so rows are exactly what SQLAlchemy
would have returned, and :class:`~loom.store._rows.RowCodec` decodes them as usual.

It relies on SQLAlchemy's asyncpg adapter (its execution lock and lazily started
transaction); when those are not there the lean path switches itself off and every read
runs through SQLAlchemy.
"""

from __future__ import annotations

import itertools
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Select
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.type_api import TypeEngine

from loom.core.logging import logger
from loom.store._reads import ReadStatement
from loom.store._types import UTCDateTime

__all__ = [
    "PREPARED_PER_CONNECTION",
    "STATEMENT_PREFIX",
    "LeanConnection",
    "LeanReadError",
    "LeanSQL",
    "compile_lean",
]

PREPARED_PER_CONNECTION = 512
"""Prepared statements kept per pooled connection (least recently used dropped first)."""

STATEMENT_PREFIX = "loom_"
"""Server-side names of the lean path's prepared statements start with this."""

_CACHE_KEY = "loom.store.lean"
_UNSUPPORTED = object()  # ReadStatement.lean of a statement left to SQLAlchemy
_ADAPTER_NEEDS = (
    "_execute_mutex",
    "_transaction",
    "_start_transaction",
    "readonly",
    "isolation_level",
)
_ids = itertools.count(1)
_TIMESTAMPTZ = 1184  # the type OID of timestamp with time zone

Processor = Callable[[Any], Any]


class LeanReadError(Exception):
    """A lean read failed; :attr:`error` is the driver's exception, for translation.

    :attr:`lost` is true when the failure did not come from the server (a closed or
    broken connection, a timeout): the connection has been invalidated.
    """

    def __init__(self, error: BaseException, *, lost: bool) -> None:
        super().__init__(type(error).__name__)
        self.error = error
        self.lost = lost


def _from_server(error: BaseException | None) -> bool:
    """True when the server answered with an error (a SQLSTATE somewhere in the chain)."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(getattr(error, "sqlstate", None), str):
            return True
        error = getattr(error, "orig", None) or error.__cause__
    return False


class LeanSQL:
    """One statement compiled for asyncpg: its text, parameters and value processors.

    Args:
        text: The SQL, with ``$n`` placeholders.
        names: The parameter behind each placeholder, in order.
        binds: The bind processor of each parameter (``None``: sent as it is).
        defaults: Values of parameters the statement carries itself.
        types: The type of each selected column.
    """

    __slots__ = ("binds", "defaults", "names", "results", "text", "types")

    def __init__(
        self,
        text: str,
        names: tuple[str, ...],
        binds: tuple[Processor | None, ...],
        defaults: Mapping[str, Any],
        types: tuple[TypeEngine[Any], ...],
    ) -> None:
        self.text = text
        self.names = names
        self.binds = binds
        self.defaults = dict(defaults)
        self.types = types
        self.results: tuple[tuple[int, Processor], ...] | None = None

    def arguments(self, params: Mapping[str, Any]) -> list[Any]:
        """The positional arguments for ``params`` (named values), processed for binding."""
        args: list[Any] = []
        defaults = self.defaults
        for name, process in zip(self.names, self.binds, strict=True):
            value = params[name] if name in params else defaults[name]
            args.append(value if process is None else process(value))
        return args

    def rows(self, records: list[Any]) -> Sequence[Sequence[Any]]:
        """``records`` with the result processors applied (as they are when there are none)."""
        results = self.results
        if not results:
            return records
        rows: list[list[Any]] = []
        for record in records:
            row = list(record)
            for index, process in results:
                row[index] = process(row[index])
            rows.append(row)
        return rows


def compile_lean(statement: Select[Any], dialect: Dialect) -> LeanSQL | None:
    """Compile ``statement`` for asyncpg once; ``None`` when the lean path cannot run it.

    Statements whose SQL depends on their values (expanding ``IN`` lists, literal
    parameters) are left to SQLAlchemy.
    """
    if dialect.paramstyle != "numeric_dollar":
        return None
    compiled = statement.compile(dialect=dialect)
    if compiled.literal_execute_params or compiled.post_compile_params:
        return None
    names = tuple(compiled.positiontup or ())
    binds = tuple(compiled.binds[name] for name in names)
    return LeanSQL(
        text=str(compiled),
        names=names,
        binds=tuple(bind.type.dialect_impl(dialect).bind_processor(dialect) for bind in binds),
        defaults={
            name: bind.effective_value
            for name, bind in zip(names, binds, strict=True)
            if not bind.required
        },
        types=tuple(column.type for column in statement.selected_columns),
    )


def _result_processors(
    types: Sequence[TypeEngine[Any]], attributes: Sequence[Any], dialect: Dialect
) -> tuple[tuple[int, Processor], ...]:
    """The result processor of each column that needs one, by column index.

    asyncpg already reads ``timestamptz`` as an aware UTC ``datetime``, which is what
    :class:`~loom.store.mapping.UTCDateTime` would make of it: those columns need none.
    """
    found: list[tuple[int, Processor]] = []
    for index, (type_, attribute) in enumerate(zip(types, attributes, strict=True)):
        if isinstance(type_, UTCDateTime) and attribute.type.oid == _TIMESTAMPTZ:
            continue
        process = type_.dialect_impl(dialect).result_processor(dialect, attribute.type.oid)
        if process is not None:
            found.append((index, process))
    return tuple(found)


class LeanConnection:
    """A unit of work's connection, seen through asyncpg, for the lean read path.

    Args:
        connection: The unit of work's connection.
        adapter: SQLAlchemy's asyncpg adapter of that connection.
        driver: The ``asyncpg.Connection``.
        prepared: The connection's prepared statements by SQL text (kept in pool info).

    On a read-only connection at ``READ COMMITTED`` (PostgreSQL's default), lean reads
    run without ``BEGIN``/``COMMIT``: at that level every statement reads its own
    snapshot whether or not a transaction groups them, and a lean read is one of loom's
    own ``SELECT`` statements, so the transaction would only cost two round trips. A
    statement SQLAlchemy runs later on the connection begins a ``READ ONLY``
    transaction as usual.
    """

    def __init__(
        self,
        connection: AsyncConnection,
        adapter: Any,
        driver: Any,
        prepared: OrderedDict[str, Any],
    ) -> None:
        self._connection = connection
        self._dialect = connection.dialect
        self._adapter = adapter
        self._driver = driver
        self._prepared = prepared
        self._untransacted = (
            adapter.readonly is True
            and adapter.isolation_level is None
            and connection.dialect.default_isolation_level == "READ COMMITTED"
        )

    @classmethod
    async def open(cls, connection: AsyncConnection) -> LeanConnection | None:
        """The lean view of ``connection``; ``None`` when its driver is not asyncpg's."""
        sync = connection.sync_connection
        if sync is not None and not sync.invalidated and not sync.closed:
            raw = sync.connection  # checked out already: no I/O, no greenlet
        else:
            raw = await connection.get_raw_connection()
        adapter, driver = raw.dbapi_connection, raw.driver_connection
        if not all(hasattr(adapter, name) for name in _ADAPTER_NEEDS) or not hasattr(
            driver, "prepare"
        ):
            logger.debug("loom-store: the lean read path needs SQLAlchemy's asyncpg adapter")
            return None
        prepared = raw.info.get(_CACHE_KEY)
        if prepared is None:
            prepared = raw.info[_CACHE_KEY] = OrderedDict()
        return cls(connection, adapter, driver, prepared)

    @property
    def prepared(self) -> tuple[str, ...]:
        """The SQL of the statements this connection has prepared, oldest first."""
        return tuple(self._prepared)

    async def fetch(
        self, read: ReadStatement, params: Mapping[str, Any]
    ) -> Sequence[Sequence[Any]] | None:
        """Run ``read`` with ``params``; ``None`` when the lean path leaves it to SQLAlchemy.

        Raises:
            LeanReadError: the database or the connection failed.
        """
        sql = read.lean
        if sql is None:
            sql = read.lean = compile_lean(read.statement, self._dialect) or _UNSUPPORTED
        if sql is _UNSUPPORTED:
            return None
        args = sql.arguments(params)
        adapter = self._adapter
        try:
            async with adapter._execute_mutex:
                if adapter._transaction is None and not self._untransacted:
                    await adapter._start_transaction()
                statement = self._prepared.get(sql.text)
                if statement is None:
                    statement = await self._prepare(sql)
                else:
                    self._prepared.move_to_end(sql.text)
                records = await statement.fetch(*args)
        except Exception as exc:
            lost = await self._failed(exc)
            raise LeanReadError(exc, lost=lost) from exc
        rows: Sequence[Sequence[Any]] = sql.rows(records)
        return rows

    async def commit(self) -> None:
        """Commit the transaction a lean read began, unless there is none.

        For a unit of work whose statements were all lean reads, so SQLAlchemy never
        took the transaction over; committing here spares a trip through its sync layer.

        Raises:
            LeanReadError: the database or the connection failed.
        """
        adapter = self._adapter
        if adapter._transaction is None:
            return
        try:
            async with adapter._execute_mutex:
                transaction, adapter._transaction = adapter._transaction, None
                if transaction is not None:
                    await transaction.commit()
        except Exception as exc:
            lost = await self._failed(exc)
            raise LeanReadError(exc, lost=lost) from exc

    async def _prepare(self, sql: LeanSQL) -> Any:
        statement = await self._driver.prepare(sql.text, name=f"{STATEMENT_PREFIX}{next(_ids)}")
        if sql.results is None:
            sql.results = _result_processors(sql.types, statement.get_attributes(), self._dialect)
        self._prepared[sql.text] = statement
        while len(self._prepared) > PREPARED_PER_CONNECTION:
            self._prepared.popitem(last=False)
        return statement

    async def _failed(self, exc: BaseException) -> bool:
        """Forget prepared statements (they may be stale); invalidate a lost connection.

        Returns whether the connection was lost (closed, broken, timed out) rather than
        refused by the server.
        """
        self._prepared.clear()
        if _from_server(exc) and not self._driver.is_closed():
            return False
        try:
            await self._connection.invalidate(exc)
        except Exception as error:  # noqa: BLE001 - the first error is the one to report
            logger.debug("loom-store: invalidating a lost connection failed: {e}", e=repr(error))
        return True
