"""What a database error says, read from the driver exception (asyncpg or sqlite3)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum

from sqlalchemy.exc import DBAPIError

__all__ = ["Failure", "Kind", "diagnose"]


class Kind(Enum):
    """The kinds of database failure loom tells apart."""

    UNIQUE = "unique"
    FOREIGN_KEY = "foreign_key"
    NOT_NULL = "not_null"
    INVALID_VALUE = "invalid_value"
    READ_ONLY = "read_only"
    UNAVAILABLE = "unavailable"
    ABORTED = "aborted"
    SERIALIZATION = "serialization"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class Failure:
    """One diagnosed failure; ``text`` is the driver's message, for the log only."""

    kind: Kind
    columns: tuple[str, ...] = ()
    constraint: str | None = None
    table: str | None = None
    referencing_table: str | None = None
    text: str = ""


_PG_KINDS: dict[str, Kind] = {
    "23505": Kind.UNIQUE,
    "23503": Kind.FOREIGN_KEY,
    "23502": Kind.NOT_NULL,
    "23514": Kind.INVALID_VALUE,
    "25006": Kind.READ_ONLY,
    "25P02": Kind.ABORTED,
    "40001": Kind.SERIALIZATION,
    "40P01": Kind.SERIALIZATION,
    "57P01": Kind.UNAVAILABLE,
    "57P02": Kind.UNAVAILABLE,
    "57P03": Kind.UNAVAILABLE,
    "53300": Kind.UNAVAILABLE,
}
_PG_CLASSES: dict[str, Kind] = {
    "08": Kind.UNAVAILABLE,  # connection exception
    "28": Kind.UNAVAILABLE,  # invalid authorization
    "3D": Kind.UNAVAILABLE,  # the database does not exist
    "53": Kind.UNAVAILABLE,  # insufficient resources
    "57": Kind.UNAVAILABLE,  # operator intervention (shutdown, cancel)
    "22": Kind.INVALID_VALUE,
}

_SQLITE_KINDS: dict[str, Kind] = {
    "SQLITE_CONSTRAINT_UNIQUE": Kind.UNIQUE,
    "SQLITE_CONSTRAINT_PRIMARYKEY": Kind.UNIQUE,
    "SQLITE_CONSTRAINT_FOREIGNKEY": Kind.FOREIGN_KEY,
    "SQLITE_CONSTRAINT_NOTNULL": Kind.NOT_NULL,
    "SQLITE_CONSTRAINT_CHECK": Kind.INVALID_VALUE,
    "SQLITE_TOOBIG": Kind.INVALID_VALUE,
    "SQLITE_MISMATCH": Kind.INVALID_VALUE,
    "SQLITE_READONLY": Kind.READ_ONLY,
    "SQLITE_BUSY": Kind.UNAVAILABLE,
    "SQLITE_LOCKED": Kind.UNAVAILABLE,
    "SQLITE_CANTOPEN": Kind.UNAVAILABLE,
    "SQLITE_IOERR": Kind.UNAVAILABLE,
    "SQLITE_FULL": Kind.UNAVAILABLE,
}

_PG_KEY = re.compile(r"^Key \((?P<columns>[^)]*)\)=")
_PG_FROM_TABLE = re.compile(r'referenced from table "(?P<table>[^"]+)"')
_SQLITE_COLUMNS = re.compile(r"constraint failed: (?P<columns>.+)$")


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    pending: list[BaseException | None] = [exc]
    while pending:
        item = pending.pop(0)
        if item is None or id(item) in seen:
            continue
        seen.add(id(item))
        yield item
        pending.extend([getattr(item, "orig", None), item.__cause__, item.__context__])


def _split_columns(text: str) -> tuple[str, ...]:
    names = (part.strip().strip('"') for part in text.split(","))
    return tuple(name.rpartition(".")[2] for name in names if name)


def _attribute(chain: list[BaseException], name: str) -> str | None:
    """The first non-empty ``name`` attribute along the chain (asyncpg's error has them all)."""
    for item in chain:
        value = getattr(item, name, None)
        if value:
            return str(value)
    return None


def _from_postgres(chain: list[BaseException], sqlstate: str, text: str) -> Failure:
    kind = _PG_KINDS.get(sqlstate) or _PG_CLASSES.get(sqlstate[:2], Kind.OTHER)
    detail = _attribute(chain, "detail") or ""
    key = _PG_KEY.match(detail)
    columns = _split_columns(key.group("columns")) if key else ()
    column = _attribute(chain, "column_name")
    if not columns and column:
        columns = (column,)
    referencing = _PG_FROM_TABLE.search(detail)
    return Failure(
        kind=kind,
        columns=columns,
        constraint=_attribute(chain, "constraint_name"),
        table=_attribute(chain, "table_name"),
        referencing_table=referencing.group("table") if referencing else None,
        text=f"{text} {detail}".strip(),
    )


_SQLITE_MESSAGES: dict[str, Kind] = {
    "UNIQUE constraint failed": Kind.UNIQUE,
    "FOREIGN KEY constraint failed": Kind.FOREIGN_KEY,
    "NOT NULL constraint failed": Kind.NOT_NULL,
    "CHECK constraint failed": Kind.INVALID_VALUE,
}


def _from_sqlite(name: str, text: str) -> Failure:
    kind = _SQLITE_KINDS.get(name)
    if kind is None:
        # e.g. SQLITE_CONSTRAINT_TRIGGER for a RESTRICT foreign key: read the message
        prefix = next((p for p in _SQLITE_MESSAGES if text.startswith(p)), None)
        base = "_".join(name.split("_")[:2])
        kind = _SQLITE_MESSAGES[prefix] if prefix else _SQLITE_KINDS.get(base, Kind.OTHER)
    found = _SQLITE_COLUMNS.search(text)
    columns = _split_columns(found.group("columns")) if found else ()
    table = None
    if found and "." in found.group("columns"):
        table = found.group("columns").split(".", 1)[0].strip()
    return Failure(kind=kind, columns=columns, table=table, text=text)


def diagnose(exc: BaseException) -> Failure:
    """Read what went wrong from ``exc`` (a SQLAlchemy, driver or OS error)."""
    text = str(exc)
    chain = list(_chain(exc))
    for item in chain:
        sqlstate = getattr(item, "sqlstate", None)
        if isinstance(sqlstate, str) and len(sqlstate) == 5:
            return _from_postgres(chain, sqlstate, str(item))
        name = getattr(item, "sqlite_errorname", None)
        if isinstance(name, str):
            return _from_sqlite(name, str(item))
    for item in chain:
        if isinstance(item, (OSError, asyncio.TimeoutError, TimeoutError)):
            return Failure(kind=Kind.UNAVAILABLE, text=text)
        if isinstance(item, DBAPIError) and item.connection_invalidated:
            return Failure(kind=Kind.UNAVAILABLE, text=text)
        if type(item).__name__ == "ConnectionDoesNotExistError":  # asyncpg, no SQLSTATE
            return Failure(kind=Kind.UNAVAILABLE, text=text)
        if type(item).__name__ == "InterfaceError" and "connection is closed" in str(item):
            return Failure(kind=Kind.UNAVAILABLE, text=text)  # asyncpg, as SQLAlchemy reads it
    return Failure(kind=Kind.OTHER, text=text)
