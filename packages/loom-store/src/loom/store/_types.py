"""Column types loom-store adds to SQLAlchemy: aware UTC datetimes, the database's "now"."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any, ClassVar

from sqlalchemy import Date, DateTime, Time
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import TypeDecorator

__all__ = ["UTCDateTime", "utc_now"]

_SQLITE_FORMATS: dict[type[Any], str] = {
    datetime: "%Y-%m-%d %H:%M:%f000",
    date: "%Y-%m-%d",
    time: "%H:%M:%f000",
}
_PG_CASTS: dict[type[Any], str] = {
    datetime: "now()",
    date: "CAST((now() AT TIME ZONE 'UTC') AS DATE)",
    time: "CAST((now() AT TIME ZONE 'UTC') AS TIME)",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back as an aware UTC ``datetime``.

    PostgreSQL stores ``timestamp with time zone``; SQLite stores the UTC wall time as
    text (``YYYY-MM-DD HH:MM:SS.ffffff``, which sorts chronologically). A naive value is
    refused with ``ValueError``.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime; give a timezone-aware value")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
        if moment.tzinfo is None:
            return moment.replace(tzinfo=UTC)
        return moment if moment.tzinfo is UTC else moment.astimezone(UTC)

    @property
    def python_type(self) -> type[Any]:
        return datetime


class _UtcNow(FunctionElement[Any]):
    """The database's current UTC time (one subclass per column kind)."""

    inherit_cache = True
    name = "utc_now"
    kind: ClassVar[type[Any]] = datetime

    def __init__(self) -> None:
        super().__init__()


class _UtcNowDateTime(_UtcNow):
    inherit_cache = True
    kind = datetime
    type = UTCDateTime()


class _UtcNowDate(_UtcNow):
    inherit_cache = True
    kind = date
    type = Date()


class _UtcNowTime(_UtcNow):
    inherit_cache = True
    kind = time
    type = Time()


_BY_KIND: dict[type[Any], type[_UtcNow]] = {
    datetime: _UtcNowDateTime,
    date: _UtcNowDate,
    time: _UtcNowTime,
}


def utc_now(kind: type[Any] = datetime) -> ColumnElement[Any]:
    """The database's current UTC time as a SQL expression, typed for a ``kind`` column.

    ``kind`` is ``datetime``, ``date`` or ``time``. It renders ``now()`` (cast to a UTC
    date or time when asked) on PostgreSQL and ``strftime(...)`` in loom's storage
    format on SQLite, so it serves as a ``server_default`` and in ``UPDATE ... SET``.

    Raises:
        TypeError: ``kind`` is not one of the three.
    """
    try:
        return _BY_KIND[kind]()
    except KeyError:
        raise TypeError(f"utc_now() fills datetime, date or time columns, not {kind!r}") from None


@compiles(_UtcNow)
def _utc_now_default(element: _UtcNow, compiler: SQLCompiler, **kw: Any) -> str:
    return _PG_CASTS[element.kind]


@compiles(_UtcNow, "sqlite")
def _utc_now_sqlite(element: _UtcNow, compiler: SQLCompiler, **kw: Any) -> str:
    return f"(strftime('{_SQLITE_FORMATS[element.kind]}', 'now'))"
