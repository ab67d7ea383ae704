"""Python field types to SQLAlchemy column types."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from enum import Enum
from typing import Any, Literal, get_args, get_origin
from uuid import UUID

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Double,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    Time,
    Uuid,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.type_api import TypeEngine
from sqlalchemy.types import TypeDecorator

from loom.core.model import ColumnSpec
from loom.store._types import UTCDateTime

__all__ = ["EnumValue", "is_json_type", "sql_type"]


def _integer() -> TypeEngine[int]:
    # SQLite only makes "INTEGER PRIMARY KEY" an alias of the rowid (autoincrement)
    return BigInteger().with_variant(Integer(), "sqlite")


def _json() -> TypeEngine[Any]:
    return JSON().with_variant(JSONB(), "postgresql")


class EnumValue(TypeDecorator[Any]):
    """An ``Enum`` stored as its members' values (text or integer); read back as members."""

    impl = String
    cache_ok = True

    def __init__(self, enum: type[Enum]) -> None:
        values = [member.value for member in enum]
        self.enum = enum
        if values and all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            super().__init__()
            self.impl = _integer()  # type: ignore[assignment]
        else:
            super().__init__(length=max((len(str(v)) for v in values), default=1))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        return self.enum(value).value

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        return self.enum(value)

    @property
    def python_type(self) -> type[Any]:
        return self.enum


def _literal_type(tp: Any) -> TypeEngine[Any]:
    values = get_args(tp)
    if all(isinstance(v, bool) for v in values):
        return Boolean()
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return _integer()
    if all(isinstance(v, str) for v in values):
        return String(max((len(v) for v in values), default=1))
    return _json()


def is_json_type(tp: Any) -> bool:
    """True when a field of type ``tp`` is stored as JSON (not a scalar column)."""
    return isinstance(sql_type_for(tp, None), JSON)


def sql_type(column: ColumnSpec) -> TypeEngine[Any]:
    """Return the column type for a model field.

    ``int`` → ``BIGINT`` (``INTEGER`` on SQLite), ``str`` → ``VARCHAR(length)`` or
    ``TEXT``, ``float`` → ``DOUBLE``, ``Decimal`` → ``NUMERIC``, ``bool``, ``date``,
    ``time``, ``datetime`` → :class:`~loom.store._types.UTCDateTime`, ``UUID``, ``bytes``,
    enums by value, ``Literal`` by the type of its values; anything else (``dict``,
    ``list``, structs) → JSON (``JSONB`` on PostgreSQL).
    """
    return sql_type_for(column.python_type, column.info.length)


def sql_type_for(tp: Any, length: int | None) -> TypeEngine[Any]:
    """Return the column type for the Python type ``tp`` (``length`` for text and bytes)."""
    if tp is bool:
        return Boolean()
    if tp is int:
        return _integer()
    simple: dict[Any, TypeEngine[Any]] = {
        float: Double(),
        Decimal: Numeric(),
        datetime: UTCDateTime(),
        date: Date(),
        time: Time(),
        UUID: Uuid(),
    }
    if tp in simple:
        return simple[tp]
    if tp is str:
        return String(length) if length else Text()
    if tp is bytes:
        return LargeBinary(length)
    if get_origin(tp) is Literal:
        return _literal_type(tp)
    if isinstance(tp, type) and issubclass(tp, Enum):
        return EnumValue(tp)
    return _json()
