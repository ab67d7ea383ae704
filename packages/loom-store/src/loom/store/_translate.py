"""Database failures to loom errors: no driver text ever reaches the message."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import ForeignKeyConstraint, Table, select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.schema import ColumnCollectionConstraint

from loom.core.errors import Conflict, FieldError, LoomError, ValidationError
from loom.core.logging import logger
from loom.store._diagnose import Failure, Kind, diagnose
from loom.store.errors import ReadOnlyError, StoreError, StoreUnavailable

__all__ = ["connection_error", "lost_connection", "operation_error"]

_UNAVAILABLE = "the database is unavailable; try again later"


def _log(failure: Failure, what: str, exc: BaseException) -> None:
    if failure.kind is Kind.UNAVAILABLE:
        logger.warning(
            "loom-store: {what}: database unavailable: {text}", what=what, text=failure.text
        )
    elif failure.kind is Kind.OTHER:
        logger.opt(exception=exc).error(
            "loom-store: {what} failed: {text}", what=what, text=failure.text
        )
    else:
        logger.debug(
            "loom-store: {what} refused ({kind}): {text}",
            what=what,
            kind=failure.kind.value,
            text=failure.text,
        )


def _generic(failure: Failure) -> LoomError:
    if failure.kind is Kind.UNAVAILABLE:
        return StoreUnavailable(_UNAVAILABLE)
    if failure.kind is Kind.READ_ONLY:
        return ReadOnlyError("a write was attempted in a read-only unit of work")
    if failure.kind is Kind.SERIALIZATION:
        return Conflict("the transaction conflicted with a concurrent one; retry")
    if failure.kind is Kind.ABORTED:
        return StoreError(
            "the transaction was aborted by an earlier error; leave this unit of work"
        )
    return StoreError("the database refused the operation")


def connection_error(exc: BaseException, *, during: str = "connect") -> LoomError:
    """Translate a failure to connect, begin or commit."""
    failure = diagnose(exc)
    _log(failure, during, exc)
    if failure.kind in (Kind.UNIQUE, Kind.FOREIGN_KEY):
        return Conflict("the transaction conflicts with the stored data", fields=failure.columns)
    return _generic(failure)


def lost_connection(exc: BaseException, *, during: str) -> StoreUnavailable:
    """A connection that closed or broke under a statement (the pool replaces it)."""
    logger.warning(
        "loom-store: {what}: connection lost: {text}",
        what=during,
        text=f"{type(exc).__name__}: {exc}",
    )
    return StoreUnavailable(_UNAVAILABLE)


def _table_columns(table: Table, names: Sequence[str]) -> tuple[str, ...]:
    return tuple(name for name in names if name in table.c)


def _unique_columns(table: Table, failure: Failure) -> tuple[str, ...]:
    columns = _table_columns(table, failure.columns)
    if columns or failure.constraint is None:
        return columns
    for index in table.indexes:
        if index.name == failure.constraint:
            return tuple(c.key for c in index.columns)
    for constraint in table.constraints:
        if (
            isinstance(constraint, ColumnCollectionConstraint)
            and constraint.name == failure.constraint
        ):
            return tuple(c.key for c in constraint.columns)
    return ()


async def _missing_parents(
    connection: AsyncConnection, table: Table, rows: Sequence[Mapping[str, Any]]
) -> list[FieldError]:
    """Find which foreign-key values of ``rows`` have no parent row (SQLite does not say)."""
    errors: list[FieldError] = []
    for constraint in table.foreign_key_constraints:
        if len(constraint.elements) != 1:
            continue
        element = constraint.elements[0]
        name = element.parent.key
        wanted = {row[name] for row in rows if row.get(name) is not None}
        if not wanted:
            continue
        parent = element.column
        found = await connection.execute(select(parent).where(parent.in_(sorted(wanted))))
        if wanted - {value for (value,) in found}:
            errors.append(FieldError(name, f"no {parent.table.name} row with this value"))
    return errors


def _referencing(table: Table, failure: Failure) -> list[tuple[str, str]]:
    """``(child table, child column)`` of the foreign keys that blocked a delete."""
    found: list[tuple[str, str]] = []
    metadata = table.metadata
    for child in metadata.tables.values():
        for constraint in child.constraints:
            if not isinstance(constraint, ForeignKeyConstraint):
                continue
            by_name = failure.constraint is not None and constraint.name == failure.constraint
            by_table = (
                failure.constraint is None
                and child.name == failure.referencing_table
                and constraint.referred_table is table
            )
            if by_name or by_table:
                found.extend((child.name, c.key) for c in constraint.columns)
    return found


async def _blocking_children(
    connection: AsyncConnection, table: Table, key: Any
) -> list[tuple[str, str]]:
    """The direct children that still point at row ``key`` without a cascade (SQLite)."""
    found: list[tuple[str, str]] = []
    pk = table.primary_key.columns.values()[0]
    for child in table.metadata.tables.values():
        for constraint in child.foreign_key_constraints:
            if constraint.referred_table is not table or len(constraint.elements) != 1:
                continue
            if (constraint.ondelete or "").upper() in ("CASCADE", "SET NULL"):
                continue
            element = constraint.elements[0]
            if element.column is not pk:
                continue
            column = element.parent
            hit = await connection.execute(select(column).where(column == key).limit(1))
            if hit.first() is not None:
                found.append((child.name, column.key))
    return found


async def operation_error(
    exc: BaseException,
    *,
    connection: AsyncConnection,
    table: Table,
    dialect: str,
    operation: str,
    rows: Sequence[Mapping[str, Any]] = (),
    key: Any = None,
) -> LoomError:
    """Translate a failed repository statement into the loom error a client may see.

    Unique violations become ``Conflict(fields=...)``; a missing foreign-key parent a
    ``ValidationError`` naming the column (found by querying the parents on SQLite); a
    delete blocked by a reference a ``Conflict``; NULLs and bad values a
    ``ValidationError``; connection problems :class:`StoreUnavailable`.
    """
    failure = diagnose(exc)
    _log(failure, f"{table.name}.{operation}", exc)
    kind = failure.kind
    if kind is Kind.UNIQUE:
        return Conflict(fields=_unique_columns(table, failure))
    if kind is Kind.FOREIGN_KEY and operation == "delete":
        children = _referencing(table, failure)
        if not children and dialect == "sqlite":
            children = await _safely(_blocking_children(connection, table, key), [])
        if children:
            where = ", ".join(f"{child}.{column}" for child, column in children)
            return Conflict(
                f"{table.name} {key!r} is still referenced by {where}",
                fields=tuple(dict.fromkeys(column for _, column in children)),
            )
        return Conflict(f"{table.name} {key!r} is still referenced by other rows")
    if kind is Kind.FOREIGN_KEY:
        columns = _table_columns(table, failure.columns)
        if columns:
            return ValidationError(
                errors=[FieldError(c, "no referenced row with this value") for c in columns]
            )
        errors = await _safely(_missing_parents(connection, table, rows), [])
        return ValidationError(errors=errors or [FieldError("", "a referenced row does not exist")])
    if kind is Kind.NOT_NULL:
        columns = _table_columns(table, failure.columns)
        return ValidationError(errors=[FieldError(c, "must not be null") for c in columns])
    if kind is Kind.INVALID_VALUE:
        columns = _table_columns(table, failure.columns)
        return ValidationError(
            errors=[FieldError(c, "invalid value") for c in columns]
            or [FieldError("", "a value does not fit its column")]
        )
    return _generic(failure)


async def _safely(work: Any, default: Any) -> Any:
    """Await a diagnostic query; if it fails too, fall back to ``default``."""
    try:
        return await work
    except Exception as error:  # noqa: BLE001 - diagnosis must never hide the first error
        logger.debug("loom-store: diagnosis failed: {error}", error=repr(error))
        return default
